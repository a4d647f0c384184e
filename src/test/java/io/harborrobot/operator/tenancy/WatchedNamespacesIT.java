package io.harborrobot.operator.tenancy;

import static io.harborrobot.operator.OperatorHarness.pullRobot;
import static io.harborrobot.operator.OperatorHarness.rule;
import static org.assertj.core.api.Assertions.assertThat;

import io.harborrobot.operator.OperatorHarness;
import io.harborrobot.operator.api.v1alpha1.ConnectionKind;
import io.harborrobot.operator.api.v1alpha1.ConnectionRef;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The operator restricted to some namespaces (--namespaces), as deploy/rbac-namespaced.yaml runs
 * it.
 */
class WatchedNamespacesIT {

  private static OperatorHarness harness;

  @BeforeAll
  static void start() {
    harness = OperatorHarness.startWatching(Set.of("watched-a", "watched-b"));
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @Test
  void robotsOutsideTheWatchedNamespacesAreNotTouchedAndClusterConnectionsStillWork() {
    String watched = harness.newTeam("watched-a");
    String other = harness.newTeam("not-watched");
    harness.create(pullRobot(watched, "inside"));
    harness.create(pullRobot(other, "outside"));

    harness.awaitReady(watched, "inside");
    assertThat(harness.dockerConfigLogsIn(harness.secret(watched, "inside"))).isTrue();

    // A ClusterHarborConnection is cluster-scoped: watched whatever the namespaces.
    String tenant = harness.newTeam("watched-b");
    harness.clusterConnection(
        "shared", c -> c.getSpec().setAccess(List.of(rule(List.of(tenant), tenant))));
    HarborRobot viaCluster = pullRobot(tenant, "via-cluster");
    viaCluster
        .getSpec()
        .setConnectionRef(new ConnectionRef(ConnectionKind.ClusterHarborConnection, "shared"));
    harness.create(viaCluster);
    harness.awaitReady(tenant, "via-cluster");
    harness.awaitClusterConnectionStatus("shared", s -> s.getHarborVersion() != null);

    assertThat(harness.get(other, "outside").getStatus()).isNull();
    assertThat(harness.get(other, "outside").getMetadata().getFinalizers()).isEmpty();
    assertThat(harness.secret(other, "outside")).isNull();
    assertThat(harness.harbor().findRobot(other, "outside")).isEmpty();
  }
}
