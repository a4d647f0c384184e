package io.harborrobot.operator.reconciler;

import io.harborrobot.operator.api.v1alpha1.ClusterHarborConnection;
import io.harborrobot.operator.api.v1alpha1.HarborConnection;
import io.harborrobot.operator.api.v1alpha1.HarborConnectionSpec;
import io.harborrobot.operator.api.v1alpha1.HarborConnectionStatus;
import io.harborrobot.operator.api.v1alpha1.ReadProblems;
import java.util.List;

/**
 * A HarborRobot's connection, found: which one, its spec and status, and the namespace its Secrets
 * (credentials, CA) are read from.
 *
 * @param kind HarborConnection or ClusterHarborConnection
 * @param name the connection's name
 * @param secretNamespace where the connection's Secrets live: the HarborConnection's own namespace,
 *     or the namespace a ClusterHarborConnection names
 * @param spec the connection's spec
 * @param version the connection's resourceVersion (a session is rebuilt when it changes)
 * @param generation the connection's metadata.generation
 * @param status the connection's status, null before the connection controller wrote one
 * @param uid the connection's uid (a connection created again under the same name is another)
 * @param readProblems what of the connection did not fit the model (see {@link ReadProblems})
 */
public record ResolvedConnection(
    String kind,
    String name,
    String connectionNamespace,
    String secretNamespace,
    HarborConnectionSpec spec,
    String version,
    Long generation,
    HarborConnectionStatus status,
    String uid,
    List<String> readProblems) {

  public static final String NAMESPACED = "HarborConnection";
  public static final String CLUSTER = "ClusterHarborConnection";

  /** A HarborConnection: its Secrets are in its own namespace. */
  public static ResolvedConnection of(HarborConnection connection) {
    String namespace = connection.getMetadata().getNamespace();
    return new ResolvedConnection(
        NAMESPACED,
        connection.getMetadata().getName(),
        namespace,
        namespace,
        connection.getSpec(),
        connection.getMetadata().getResourceVersion(),
        connection.getMetadata().getGeneration(),
        connection.getStatus(),
        connection.getMetadata().getUid(),
        connection.readProblems());
  }

  /** A ClusterHarborConnection: its Secrets are where its credentialsSecretRef says. */
  public static ResolvedConnection of(ClusterHarborConnection connection) {
    return new ResolvedConnection(
        CLUSTER,
        connection.getMetadata().getName(),
        null,
        connection.getSpec() == null || connection.getSpec().getCredentialsSecretRef() == null
            ? null
            : connection.getSpec().getCredentialsSecretRef().getNamespace(),
        connection.getSpec(),
        connection.getMetadata().getResourceVersion(),
        connection.getMetadata().getGeneration(),
        connection.getStatus(),
        connection.getMetadata().getUid(),
        connection.readProblems());
  }

  /**
   * Refuses a connection that did not fit the model: the operator does not guess what the fields it
   * had to set aside meant, least of all access rules or TLS settings.
   *
   * @throws ReconcileProblem InvalidConnection naming the fields
   */
  public void requireReadable() {
    if (!readProblems.isEmpty()) {
      throw new ReconcileProblem(
          Reasons.INVALID_CONNECTION,
          display() + " cannot be read by this operator: " + String.join("; ", readProblems),
          false);
    }
  }

  /** Kind/name, as status and messages show it. */
  public String display() {
    return kind + "/" + name;
  }

  /** Identifies the connection across the cluster (and names its metrics). */
  public String key() {
    return NAMESPACED.equals(kind)
        ? NAMESPACED + "/" + connectionNamespace + "/" + name
        : CLUSTER + "/" + name;
  }
}
