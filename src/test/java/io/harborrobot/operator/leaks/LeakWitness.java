package io.harborrobot.operator.leaks;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.harborrobot.operator.secret.CredentialSecrets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Where test fixtures hand {@link SecretLeakExtension} what the operator wrote to Kubernetes, so
 * that it is checked for secrets like the logs are. Does nothing outside a test class run by the
 * extension.
 */
public final class LeakWitness {

  /** API group whose every custom resource (status included) is checked. */
  private static final String GROUP = "harborrobot.io";

  private static final List<LeakCapture> ACTIVE = new CopyOnWriteArrayList<>();

  private LeakWitness() {}

  /** {@code text}, found at {@code where}, must hold no secret. */
  public static void record(String where, String text) {
    for (LeakCapture capture : ACTIVE) {
      capture.add(where, text);
    }
  }

  /**
   * Everything the operator can have written where people read it, from the API server behind
   * {@code client}: Events in full, every custom resource of {@value #GROUP} in full (spec, status,
   * annotations), ConfigMaps, and the metadata of Secrets (their data legitimately holds
   * passwords). Managed Secrets' passwords join the secrets looked for, so that a password the
   * operator generated but Harbor never received is covered too. Call it before the API server
   * stops; a failure is reported by the extension, not thrown.
   */
  public static void snapshot(KubernetesClient client) {
    if (ACTIVE.isEmpty()) {
      return;
    }
    try {
      String at = "OperatorHarness.close(): ";
      client.v1().events().inAnyNamespace().list().getItems().forEach(e -> object(at, e));
      client.events().v1().events().inAnyNamespace().list().getItems().forEach(e -> object(at, e));
      client.configMaps().inAnyNamespace().list().getItems().forEach(c -> object(at, c));
      for (CustomResourceDefinition crd :
          client.apiextensions().v1().customResourceDefinitions().list().getItems()) {
        if (GROUP.equals(crd.getSpec().getGroup())) {
          client
              .genericKubernetesResources(CustomResourceDefinitionContext.fromCrd(crd))
              .inAnyNamespace()
              .list()
              .getItems()
              .forEach(r -> object(at, r));
        }
      }
      for (Secret secret : client.secrets().inAnyNamespace().list().getItems()) {
        record(at + name(secret) + " metadata", Serialization.asJson(secret.getMetadata()));
        if (CredentialSecrets.MANAGED_BY_VALUE.equals(
            secret.getMetadata().getLabels() == null
                ? null
                : secret.getMetadata().getLabels().get(CredentialSecrets.MANAGED_BY_LABEL))) {
          CredentialSecrets.password(secret)
              .ifPresent(p -> ACTIVE.forEach(capture -> capture.addSecret(p)));
        }
      }
    } catch (RuntimeException e) {
      // a check that could not look must not pass silently
      ACTIVE.forEach(
          capture -> capture.problem("the snapshot at OperatorHarness.close() failed: " + e));
    }
  }

  static void open(LeakCapture capture) {
    ACTIVE.add(capture);
  }

  static void close(LeakCapture capture) {
    ACTIVE.remove(capture);
  }

  /** Which test is running, for the report. */
  static void phase(String phase) {
    ACTIVE.forEach(capture -> capture.phase(phase));
  }

  private static void object(String at, HasMetadata object) {
    record(at + name(object), Serialization.asJson(object));
  }

  private static String name(HasMetadata object) {
    String ns = object.getMetadata().getNamespace();
    return object.getKind() + " " + (ns == null ? "" : ns + "/") + object.getMetadata().getName();
  }
}
