package io.harborrobot.operator.reconciler;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.secret.CredentialSecrets;
import io.harborrobot.operator.secret.CredentialSecrets.Credential;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Reads and writes the credential Secrets. Reads come from the informer (which holds only Secrets
 * labelled as managed by this operator); a name missing there is checked against the API once,
 * because a Secret someone else made under that name is never cached and must never be overwritten.
 * Writes use optimistic locking (resourceVersion) and are put into the informer's cache at once, so
 * the next reconcile sees them.
 *
 * <p>Each write also carries JOSDK's {@value InformerEventSource#PREVIOUS_ANNOTATION_KEY}
 * annotation (the informer's id and the version written over), by which the informer knows the
 * watch event of the operator's own write even when it arrives before the write's response: without
 * it such an event re-queued the robot for a pass that had nothing to do (a quarter of new robots
 * in the bench).
 */
public class CredentialSecretStore {

  private final KubernetesClient client;
  private final InformerEventSource<Secret, HarborRobot> informer;

  public CredentialSecretStore(
      KubernetesClient client, InformerEventSource<Secret, HarborRobot> informer) {
    this.client = client;
    this.informer = informer;
  }

  /** A store that reads every Secret from the API: for tools and tests without informers. */
  public static CredentialSecretStore uncached(KubernetesClient client) {
    return new CredentialSecretStore(client, null);
  }

  /** The Secret of that name in the namespace, managed by us or not. */
  public Optional<Secret> find(String namespace, String name) {
    Optional<Secret> cached =
        informer == null ? Optional.empty() : informer.get(new ResourceID(name, namespace));
    if (cached.isPresent()) {
      return cached;
    }
    return Optional.ofNullable(client.secrets().inNamespace(namespace).withName(name).get());
  }

  /**
   * Makes the Secret carry {@code credential} (and a rotation's {@code pendingPassword}, or null)
   * and {@code bookkeeping}; creates it when {@code current} is null, writes nothing when it
   * already matches. Fails on a concurrent change.
   */
  public Secret write(
      HarborRobot robot,
      Secret current,
      Credential credential,
      String pendingPassword,
      Map<String, String> bookkeeping) {
    Secret desired = CredentialSecrets.build(robot, credential, pendingPassword, bookkeeping);
    if (current == null) {
      Secret created = client.secrets().resource(ownWrite(desired, null)).create();
      if (informer != null) {
        informer.handleRecentResourceCreate(ResourceID.fromResource(created), created);
      }
      return created;
    }
    if (matches(current, desired)) {
      return current;
    }
    if (!Objects.equals(current.getType(), desired.getType())) {
      // A Secret's type cannot change: replace it, with the same credential, at once. Only the
      // resourceVersion read is deleted, so a concurrent change is not thrown away.
      client.secrets().resource(current).lockResourceVersion().delete();
      Secret created = client.secrets().resource(ownWrite(desired, null)).create();
      if (informer != null) {
        informer.handleRecentResourceCreate(ResourceID.fromResource(created), created);
      }
      return created;
    }
    desired.getMetadata().setResourceVersion(current.getMetadata().getResourceVersion());
    Secret updated =
        client
            .secrets()
            .resource(ownWrite(desired, current.getMetadata().getResourceVersion()))
            .update();
    if (informer != null) {
      informer.handleRecentResourceUpdate(ResourceID.fromResource(updated), updated, current);
    }
    return updated;
  }

  /** Deletes a Secret this robot owns; a Secret it does not own is left alone. */
  public void deleteOwned(HarborRobot robot, String name) {
    find(robot.getMetadata().getNamespace(), name)
        .filter(s -> CredentialSecrets.isOwnedBy(s, robot))
        .ifPresent(s -> client.secrets().resource(s).delete());
  }

  /**
   * Marks the write as the operator's own for the informer ({@code previousVersion} null: a
   * create).
   */
  private Secret ownWrite(Secret desired, String previousVersion) {
    return informer == null ? desired : informer.addPreviousAnnotation(previousVersion, desired);
  }

  private static boolean matches(Secret current, Secret desired) {
    return Objects.equals(current.getType(), desired.getType())
        && Objects.equals(current.getData(), desired.getData())
        && (current.getStringData() == null || current.getStringData().isEmpty())
        && Objects.equals(current.getMetadata().getLabels(), desired.getMetadata().getLabels())
        && Objects.equals(
            withoutPrevious(current.getMetadata().getAnnotations()),
            withoutPrevious(desired.getMetadata().getAnnotations()))
        && Objects.equals(
            current.getMetadata().getOwnerReferences(), desired.getMetadata().getOwnerReferences());
  }

  private static Map<String, String> withoutPrevious(Map<String, String> annotations) {
    if (annotations == null
        || !annotations.containsKey(InformerEventSource.PREVIOUS_ANNOTATION_KEY)) {
      return annotations;
    }
    Map<String, String> rest = new java.util.HashMap<>(annotations);
    rest.remove(InformerEventSource.PREVIOUS_ANNOTATION_KEY);
    return rest;
  }
}
