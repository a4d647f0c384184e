package io.harborrobot.operator.reconciler;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.harborrobot.operator.api.v1alpha1.HarborConnectionSpec;
import io.harborrobot.operator.api.v1alpha1.SecretKeyReference;
import io.harborrobot.operator.api.v1alpha1.SecretReference;
import io.harborrobot.operator.harbor.RobotSecret;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Reads a connection's Secrets (admin credentials, CA bundle) by name, when they are needed: they
 * are not watched, so no other Secret of the cluster is ever read or cached. A HarborConnection
 * only reads Secrets of its own namespace; a ClusterHarborConnection those it names with a
 * namespace.
 */
public final class ConnectionSecrets {

  /** Harbor credentials; the password prints masked. */
  public record Credentials(String username, RobotSecret password) {}

  private final KubernetesClient kubernetes;

  public ConnectionSecrets(KubernetesClient kubernetes) {
    this.kubernetes = kubernetes;
  }

  /**
   * The admin credentials of {@code connection}.
   *
   * @throws ReconcileProblem InvalidConnection naming what is missing
   */
  public Credentials credentials(ResolvedConnection connection) {
    HarborConnectionSpec spec = connection.spec();
    SecretReference ref = spec.getCredentialsSecretRef();
    Secret secret = read(connection, ref, "credentialsSecretRef");
    String username = value(secret, "username");
    String password = value(secret, "password");
    if (username == null || username.isBlank() || password == null || password.isEmpty()) {
      throw new ReconcileProblem(
          Reasons.INVALID_CONNECTION,
          connection.display()
              + ": credentials Secret "
              + ref.getName()
              + " needs keys username and password",
          false);
    }
    return new Credentials(username, RobotSecret.of(password));
  }

  /** The PEM CA bundle: from caSecretRef when set, else spec.caBundle (null: the JVM's). */
  public String caBundle(ResolvedConnection connection) {
    SecretKeyReference ref = connection.spec().getCaSecretRef();
    if (ref == null) {
      return connection.spec().getCaBundle();
    }
    Secret secret = read(connection, ref, "caSecretRef");
    String pem = value(secret, ref.getKey() == null ? "ca.crt" : ref.getKey());
    if (pem == null || pem.isBlank()) {
      throw new ReconcileProblem(
          Reasons.INVALID_CONNECTION,
          connection.display() + ": CA Secret " + ref.getName() + " has no key " + ref.getKey(),
          false);
    }
    return pem;
  }

  /**
   * The resourceVersions of the connection's Secrets, to notice a change without watching them;
   * "missing" for one that cannot be read.
   */
  public String versions(ResolvedConnection connection) {
    StringBuilder versions = new StringBuilder();
    for (SecretReference ref :
        java.util.Arrays.asList(
            connection.spec().getCredentialsSecretRef(), connection.spec().getCaSecretRef())) {
      if (ref == null) {
        continue;
      }
      try {
        versions.append(read(connection, ref, "ref").getMetadata().getResourceVersion());
      } catch (ReconcileProblem missing) {
        versions.append("missing");
      }
      versions.append(';');
    }
    return versions.toString();
  }

  private Secret read(ResolvedConnection connection, SecretReference ref, String field) {
    String namespace = namespaceOf(connection, ref, field);
    Secret secret = kubernetes.secrets().inNamespace(namespace).withName(ref.getName()).get();
    if (secret == null) {
      throw new ReconcileProblem(
          Reasons.INVALID_CONNECTION,
          connection.display()
              + ": Secret "
              + ref.getName()
              + " ("
              + field
              + ") not found in namespace "
              + namespace,
          false);
    }
    return secret;
  }

  /** Where a connection may read a Secret from; anything else is refused, never followed. */
  private static String namespaceOf(
      ResolvedConnection connection, SecretReference ref, String field) {
    if (ResolvedConnection.NAMESPACED.equals(connection.kind())) {
      String own = connection.connectionNamespace();
      if (ref.getNamespace() != null && !ref.getNamespace().equals(own)) {
        throw new ReconcileProblem(
            Reasons.INVALID_CONNECTION,
            connection.display()
                + ": "
                + field
                + " points into namespace "
                + ref.getNamespace()
                + "; a HarborConnection only reads Secrets in its own namespace ("
                + own
                + ")",
            false);
      }
      return own;
    }
    if (ref.getNamespace() == null || ref.getNamespace().isBlank()) {
      throw new ReconcileProblem(
          Reasons.INVALID_CONNECTION,
          connection.display() + ": " + field + ".namespace is required",
          false);
    }
    return ref.getNamespace();
  }

  private static String value(Secret secret, String key) {
    if (secret.getData() != null && secret.getData().get(key) != null) {
      return new String(
          Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.UTF_8);
    }
    return secret.getStringData() == null ? null : secret.getStringData().get(key);
  }
}
