package io.harborrobot.operator.ops;

import static io.harborrobot.operator.OperatorHarness.pullRobot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.harborrobot.operator.OperatorHarness;
import io.harborrobot.operator.OperatorHarness.Instance;
import io.harborrobot.operator.config.LeaderElection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two replicas against one API server: only the holder of the Lease reconciles, the standby is
 * ready with its caches warm, and when the leader stops (cleanly, or by losing the API server as in
 * a crash) the standby takes over within the lease duration.
 */
class LeaderElectionIT {

  private static final String LEASE = "harbor-robot-operator";
  private static final String LEASE_NAMESPACE = OperatorHarness.OPERATOR_NAMESPACE;
  private static final Duration LEASE_DURATION = Duration.ofSeconds(6);

  private OperatorHarness harness;
  private String team;
  private final AtomicInteger fatalA = new AtomicInteger();
  private final AtomicInteger fatalB = new AtomicInteger();

  @BeforeEach
  void start() {
    harness = OperatorHarness.start();
    team = harness.newTeam();
    // The harness's own operator has no leader election: it makes way for the two replicas.
    harness.stopOperator();
  }

  @AfterEach
  void stop() {
    harness.close();
  }

  private Instance replica(String identity, AtomicInteger fatal) {
    LeaderElection election = new LeaderElection(LEASE, LEASE_NAMESPACE, identity, LEASE_DURATION);
    return harness.startInstance(c -> c.withLeaderElection(election), fatal::incrementAndGet);
  }

  /** Waits until the holder renews the Lease once more. */
  private void awaitRenewal() {
    Object renewed = lease().getSpec().getRenewTime();
    await()
        .atMost(LEASE_DURATION)
        .until(() -> lease().getSpec().getRenewTime(), time -> !time.equals(renewed));
  }

  private Lease lease() {
    return harness.client().leases().inNamespace(LEASE_NAMESPACE).withName(LEASE).get();
  }

  private String holder() {
    Lease lease = harness.client().leases().inNamespace(LEASE_NAMESPACE).withName(LEASE).get();
    return lease == null ? null : lease.getSpec().getHolderIdentity();
  }

  @Test
  void onlyTheLeaderReconcilesAndTheStandbyTakesOverWhenItStops() {
    try (Instance a = replica("replica-a", fatalA)) {
      await().atMost(LEASE_DURATION).until(this::holder, "replica-a"::equals);
      try (Instance b = replica("replica-b", fatalB)) {
        assertThat(b.runtime().health().ready()).as("a standby is ready").isTrue();
        assertThat(b.runtime().leading()).isFalse();

        harness.create(pullRobot(team, "first"));
        harness.awaitReady(team, "first");

        assertThat(a.robotReconciles()).isPositive();
        assertThat(b.robotReconciles()).as("the standby reconciles nothing").isZero();
        assertThat(a.meters().get(OperatorRuntime.LEADER).gauge().value()).isEqualTo(1);
        assertThat(b.meters().get(OperatorRuntime.LEADER).gauge().value()).isEqualTo(0);

        a.close();

        // given up on close: the standby takes it at its next try
        await().atMost(LEASE_DURATION).until(this::holder, "replica-b"::equals);
        await().atMost(LEASE_DURATION).until(() -> b.runtime().leading());
        harness.create(pullRobot(team, "second"));
        harness.awaitReady(team, "second");
        assertThat(b.robotReconciles()).isPositive();
        assertThat(harness.harbor().robots().stream().filter(r -> team.equals(r.project())))
            .as("one robot each, none twice")
            .hasSize(2);
        assertThat(fatalA)
            .as("a replica that is closed gives the Lease up and carries on")
            .hasValue(0);
      }
    }
  }

  @Test
  void whenTheLeaderLosesTheApiServerItStopsAndTheStandbyTakesOver() {
    try (Instance a = replica("replica-a", fatalA)) {
      await().atMost(LEASE_DURATION).until(this::holder, "replica-a"::equals);
      try (Instance b = replica("replica-b", fatalB)) {
        harness.create(pullRobot(team, "before"));
        harness.awaitReady(team, "before");

        // As in a crash or a network partition: the leader can no longer renew its Lease.
        a.client().close();

        LeaderElection election =
            new LeaderElection(LEASE, LEASE_NAMESPACE, "replica-b", LEASE_DURATION);
        // The Lease expires LEASE_DURATION after the last renewal; the standby tries every retry
        // period, stretched by up to 2.2 times (fabric8's jitter); a loaded machine adds more.
        await()
            .atMost(LEASE_DURATION.plus(election.retryPeriod().multipliedBy(3)).plusSeconds(3))
            .until(this::holder, "replica-b"::equals);
        await()
            .atMost(LEASE_DURATION)
            .untilAsserted(() -> assertThat(fatalA).as("the old leader stops itself").hasValue(1));
        harness.create(pullRobot(team, "after"));
        harness.awaitReady(team, "after");
        assertThat(b.robotReconciles()).isPositive();
        assertThat(fatalB).hasValue(0);
      }
    }
  }

  @Test
  void theLeaseIsUsedOnlyWithTheVerbsTheShippedRoleGrants() throws Exception {
    harness.apiServer().takeRequests();
    try (Instance a = replica("replica-a", fatalA)) {
      await().atMost(LEASE_DURATION).until(this::holder, "replica-a"::equals);
      try (Instance b = replica("replica-b", fatalB)) {
        // a renewal, a clean stop (giving up the Lease), a take-over and a renewal by the new
        // leader
        awaitRenewal();
        a.close();
        await().atMost(LEASE_DURATION).until(this::holder, "replica-b"::equals);
        awaitRenewal();
      }
    }

    Set<String> verbs =
        harness.apiServer().takeRequests().stream()
            .filter(r -> r.contains("/apis/coordination.k8s.io/v1/namespaces/" + LEASE_NAMESPACE))
            .map(LeaderElectionIT::verb)
            .collect(Collectors.toCollection(TreeSet::new));
    Set<String> granted = leaseVerbsGranted(Path.of("deploy/rbac.yaml"));

    assertThat(verbs).as("the Lease was read, created, renewed and given up").contains("get");
    assertThat(granted).as("deploy/rbac.yaml grants every verb used").containsAll(verbs);
    assertThat(leaseVerbsGranted(Path.of("deploy/rbac-namespaced.yaml"))).containsAll(verbs);
  }

  /** The RBAC verb of a request line {@code METHOD path}. */
  private static String verb(String request) {
    String method = request.substring(0, request.indexOf(' '));
    boolean named = !request.contains("/leases?") && !request.endsWith("/leases");
    return switch (method) {
      case "GET" -> named ? "get" : (request.contains("watch=true") ? "watch" : "list");
      case "POST" -> "create";
      case "PUT" -> "update";
      case "PATCH" -> "patch";
      case "DELETE" -> "delete";
      default -> method;
    };
  }

  /** The verbs the Roles of {@code file} grant on leases. */
  private static Set<String> leaseVerbsGranted(Path file) throws Exception {
    Set<String> verbs = new TreeSet<>();
    Object parsed = Serialization.unmarshal(Files.readString(file));
    for (Object document : parsed instanceof List<?> all ? all : List.of(parsed)) {
      if (document instanceof Role role) {
        role.getRules().stream()
            .filter(rule -> rule.getResources().contains("leases"))
            .forEach(rule -> verbs.addAll(rule.getVerbs()));
      }
    }
    return verbs;
  }
}
