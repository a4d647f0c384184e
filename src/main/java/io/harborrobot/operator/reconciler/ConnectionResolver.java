package io.harborrobot.operator.reconciler;

import io.fabric8.kubernetes.api.model.Namespace;
import io.harborrobot.operator.api.v1alpha1.ClusterHarborConnection;
import io.harborrobot.operator.api.v1alpha1.ConnectionKind;
import io.harborrobot.operator.api.v1alpha1.ConnectionRef;
import io.harborrobot.operator.api.v1alpha1.HarborConnection;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.tenancy.AccessPolicy;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Finds the connection a HarborRobot uses and decides whether it may use it, from the operator's
 * caches only: no Harbor request is made for a robot that is not allowed (DESIGN.md §4.6).
 */
public final class ConnectionResolver {

  private final BiFunction<String, String, Optional<HarborConnection>> namespaced;
  private final Function<String, Optional<ClusterHarborConnection>> cluster;
  private final Supplier<Collection<ClusterHarborConnection>> allCluster;
  private final Function<String, Optional<Namespace>> namespaces;

  /**
   * @param namespaced HarborConnections by namespace and name
   * @param cluster ClusterHarborConnections by name
   * @param allCluster every ClusterHarborConnection (to find the default)
   * @param namespaces Namespaces by name (for label selectors)
   */
  public ConnectionResolver(
      BiFunction<String, String, Optional<HarborConnection>> namespaced,
      Function<String, Optional<ClusterHarborConnection>> cluster,
      Supplier<Collection<ClusterHarborConnection>> allCluster,
      Function<String, Optional<Namespace>> namespaces) {
    this.namespaced = namespaced;
    this.cluster = cluster;
    this.allCluster = allCluster;
    this.namespaces = namespaces;
  }

  /** The index key robots are found by when a connection changes; see {@link #indexKeys}. */
  public static final String DEFAULT_KEY = "default";

  /**
   * What a HarborRobot's connectionRef names, as keys: {@code HarborConnection/<ns>/<name>}, {@code
   * ClusterHarborConnection/<name>}, or {@value #DEFAULT_KEY} without a connectionRef.
   */
  public static List<String> indexKeys(HarborRobot robot) {
    if (robot.getSpec() == null) {
      return List.of();
    }
    ConnectionRef ref = robot.getSpec().getConnectionRef();
    if (ref == null || ref.getName() == null) {
      return List.of(DEFAULT_KEY);
    }
    return List.of(
        ref.getKind() == ConnectionKind.ClusterHarborConnection
            ? ResolvedConnection.CLUSTER + "/" + ref.getName()
            : ResolvedConnection.NAMESPACED
                + "/"
                + robot.getMetadata().getNamespace()
                + "/"
                + ref.getName());
  }

  /** Kind/name of the connection the robot names, for status before it is resolved. */
  public static String describe(HarborRobot robot) {
    ConnectionRef ref = robot.getSpec() == null ? null : robot.getSpec().getConnectionRef();
    if (ref == null || ref.getName() == null) {
      return "the default ClusterHarborConnection";
    }
    return (ref.getKind() == null ? ConnectionKind.HarborConnection : ref.getKind())
        + "/"
        + ref.getName();
  }

  /**
   * The robot's connection.
   *
   * @throws ReconcileProblem ConnectionNotFound when it does not exist (or no default, or several
   *     defaults, are marked); InvalidConnection when it did not fit the model
   */
  public ResolvedConnection resolve(HarborRobot robot) {
    ResolvedConnection connection = find(robot);
    connection.requireReadable();
    return connection;
  }

  private ResolvedConnection find(HarborRobot robot) {
    String namespace = robot.getMetadata().getNamespace();
    ConnectionRef ref = robot.getSpec().getConnectionRef();
    if (ref == null || ref.getName() == null) {
      return cluster(defaultConnection());
    }
    if (ref.getKind() == ConnectionKind.ClusterHarborConnection) {
      return cluster(
          cluster
              .apply(ref.getName())
              .orElseThrow(
                  () ->
                      new ReconcileProblem(
                          Reasons.CONNECTION_NOT_FOUND,
                          "ClusterHarborConnection " + ref.getName() + " not found",
                          false)));
    }
    HarborConnection connection =
        namespaced
            .apply(namespace, ref.getName())
            .orElseThrow(
                () ->
                    new ReconcileProblem(
                        Reasons.CONNECTION_NOT_FOUND,
                        "HarborConnection "
                            + ref.getName()
                            + " not found in namespace "
                            + namespace,
                        false));
    return ResolvedConnection.of(connection);
  }

  /**
   * Refuses a robot its connection's access rules do not allow. A HarborConnection serves its own
   * namespace, which {@link #resolve} already ensures.
   *
   * @throws ReconcileProblem NotAllowed, saying which rule is missing
   */
  public void checkAccess(HarborRobot robot, ResolvedConnection connection) {
    if (!ResolvedConnection.CLUSTER.equals(connection.kind())) {
      return;
    }
    ClusterHarborConnection cluster =
        this.cluster
            .apply(connection.name())
            .orElseThrow(
                () ->
                    new ReconcileProblem(
                        Reasons.CONNECTION_NOT_FOUND, connection.display() + " not found", false));
    String namespace = robot.getMetadata().getNamespace();
    Map<String, String> labels =
        namespaces.apply(namespace).map(n -> n.getMetadata().getLabels()).orElse(Map.of());
    // A System-level robot needs system level allowed for every project it names.
    boolean system = robot.getSpec().isSystemLevel();
    List<String> projects =
        system
            ? DesiredRobot.of(robot).grantedProjects().stream().toList()
            : List.of(robot.getSpec().getProject());
    for (String project : projects) {
      AccessPolicy.Decision decision =
          AccessPolicy.evaluate(cluster, namespace, labels, project, system);
      if (!decision.allowed()) {
        throw new ReconcileProblem(Reasons.NOT_ALLOWED, decision.message(), false);
      }
    }
  }

  private ClusterHarborConnection defaultConnection() {
    List<ClusterHarborConnection> defaults =
        allCluster.get().stream()
            .filter(ClusterHarborConnection::isDefault)
            .sorted(
                java.util.Comparator.comparing(
                    (ClusterHarborConnection c) -> c.getMetadata().getName()))
            .toList();
    if (defaults.isEmpty()) {
      throw new ReconcileProblem(
          Reasons.CONNECTION_NOT_FOUND,
          "spec.connectionRef is not set and no ClusterHarborConnection is annotated "
              + ClusterHarborConnection.DEFAULT_ANNOTATION
              + ": \"true\"",
          false);
    }
    if (defaults.size() > 1) {
      throw new ReconcileProblem(
          Reasons.CONNECTION_NOT_FOUND,
          "spec.connectionRef is not set and "
              + defaults.size()
              + " ClusterHarborConnections are marked default ("
              + String.join(", ", defaults.stream().map(c -> c.getMetadata().getName()).toList())
              + "); set spec.connectionRef or leave one default",
          false);
    }
    return defaults.get(0);
  }

  private static ResolvedConnection cluster(ClusterHarborConnection connection) {
    return ResolvedConnection.of(connection);
  }
}
