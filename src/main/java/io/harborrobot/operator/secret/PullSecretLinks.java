package io.harborrobot.operator.secret;

import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Puts credential Secrets into ServiceAccounts' {@code imagePullSecrets}, so that pods running as
 * them pull with the robot's credentials. Entries the operator adds are recorded on the
 * ServiceAccount in the {@value #ADDED} annotation; only those are ever removed, so an entry
 * someone else put there (even for the same Secret) stays, and so do all others.
 */
public final class PullSecretLinks {

  /** Comma-separated names of the Secrets the operator added to this ServiceAccount. */
  public static final String ADDED = "harborrobot.io/image-pull-secrets";

  private final KubernetesClient client;
  private final BiFunction<String, String, Optional<ServiceAccount>> serviceAccounts;
  private final Function<String, Collection<ServiceAccount>> inNamespace;

  /**
   * @param serviceAccounts ServiceAccounts by namespace and name (the operator's cache)
   * @param inNamespace all ServiceAccounts of a namespace (the operator's cache)
   */
  public PullSecretLinks(
      KubernetesClient client,
      BiFunction<String, String, Optional<ServiceAccount>> serviceAccounts,
      Function<String, Collection<ServiceAccount>> inNamespace) {
    this.client = client;
    this.serviceAccounts = serviceAccounts;
    this.inNamespace = inNamespace;
  }

  /**
   * Makes {@code secret} a pull secret of each ServiceAccount of {@code wanted} that exists in
   * {@code namespace}, and takes it (and {@code formerNames}, earlier names of the same Secret) out
   * of the ServiceAccounts the operator added it to that are no longer wanted.
   */
  public void link(
      String namespace, String secret, Collection<String> formerNames, Collection<String> wanted) {
    for (String name : wanted) {
      serviceAccounts.apply(namespace, name).ifPresent(sa -> update(sa, secret, true, formerNames));
    }
    Set<String> ours = new LinkedHashSet<>(formerNames);
    ours.add(secret);
    for (ServiceAccount sa : inNamespace.apply(namespace)) {
      if (!wanted.contains(sa.getMetadata().getName())
          && addedBy(sa).stream().anyMatch(ours::contains)) {
        update(sa, null, false, ours);
      }
    }
  }

  /** Takes {@code secrets} out of every ServiceAccount of {@code namespace} it was added to. */
  public void unlinkAll(String namespace, Collection<String> secrets) {
    for (ServiceAccount sa : inNamespace.apply(namespace)) {
      if (addedBy(sa).stream().anyMatch(secrets::contains)) {
        update(sa, null, false, secrets);
      }
    }
  }

  /**
   * Adds (or not) {@code secret} and removes the operator-added {@code removed} names from one
   * ServiceAccount, with optimistic locking; writes nothing when nothing changes.
   */
  private void update(
      ServiceAccount current, String secret, boolean add, Collection<String> removed) {
    update(current, secret, add, removed, 1);
  }

  private void update(
      ServiceAccount current, String secret, boolean add, Collection<String> removed, int attempt) {
    List<LocalObjectReference> refs =
        new ArrayList<>(
            current.getImagePullSecrets() == null ? List.of() : current.getImagePullSecrets());
    Set<String> added = addedBy(current);
    boolean changed = false;
    for (String name : removed) {
      if (name != null && !name.equals(add ? secret : null) && added.remove(name)) {
        refs.removeIf(r -> name.equals(r.getName()));
        changed = true;
      }
    }
    if (add && refs.stream().noneMatch(r -> secret.equals(r.getName()))) {
      refs.add(new LocalObjectReference(secret));
      added.add(secret);
      changed = true;
    }
    if (!changed) {
      return;
    }
    ServiceAccount desired = client.getKubernetesSerialization().clone(current);
    desired.setImagePullSecrets(refs);
    Map<String, String> annotations =
        new LinkedHashMap<>(
            desired.getMetadata().getAnnotations() == null
                ? Map.of()
                : desired.getMetadata().getAnnotations());
    if (added.isEmpty()) {
      annotations.remove(ADDED);
    } else {
      annotations.put(ADDED, String.join(",", added));
    }
    desired.getMetadata().setAnnotations(annotations);
    try {
      client.serviceAccounts().resource(desired).update();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409 || attempt >= 3) {
        throw e;
      }
      // Changed meanwhile (another HarborRobot, a person, a stale cache): read it again.
      ServiceAccount fresh =
          client
              .serviceAccounts()
              .inNamespace(current.getMetadata().getNamespace())
              .withName(current.getMetadata().getName())
              .get();
      if (fresh != null) {
        update(fresh, secret, add, removed, attempt + 1);
      }
    }
  }

  /** The Secret names the operator added to a ServiceAccount. */
  static Set<String> addedBy(ServiceAccount sa) {
    Set<String> names = new LinkedHashSet<>();
    String recorded =
        sa.getMetadata().getAnnotations() == null
            ? null
            : sa.getMetadata().getAnnotations().get(ADDED);
    if (recorded != null) {
      for (String name : recorded.split(",")) {
        if (!name.isBlank()) {
          names.add(name.trim());
        }
      }
    }
    return names;
  }
}
