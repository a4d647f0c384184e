package io.harborrobot.operator.tenancy;

import static io.harborrobot.operator.OperatorHarness.pullRobot;
import static io.harborrobot.operator.OperatorHarness.rule;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.harborrobot.operator.OperatorHarness;
import io.harborrobot.operator.api.v1alpha1.AccessRule;
import io.harborrobot.operator.api.v1alpha1.ClusterHarborConnection;
import io.harborrobot.operator.api.v1alpha1.ConnectionKind;
import io.harborrobot.operator.api.v1alpha1.ConnectionRef;
import io.harborrobot.operator.api.v1alpha1.HarborConnection;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.SecretReference;
import io.harborrobot.operator.reconciler.Reasons;
import io.harborrobot.operator.sandbox.HarborEmulator;
import io.harborrobot.operator.secret.CredentialSecrets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Multi-tenancy (DESIGN.md §3.2, §4.6): who may use which connection for which project. Each test
 * has an operator and a Harbor of its own, so "no request reached Harbor" can be checked exactly,
 * and the operator resyncs only every ten minutes, so a rule, label or default change is seen
 * through its watch events or not at all.
 */
class TenancyIT {

  private static final AtomicInteger CONNECTIONS = new AtomicInteger();
  private OperatorHarness harness;
  private HarborEmulator harbor;

  @BeforeEach
  void start() {
    harness = OperatorHarness.startEventDriven();
    harbor = harness.harbor();
  }

  @AfterEach
  void stop() {
    harness.close();
  }

  private static HarborRobot viaCluster(String namespace, String name, String connection) {
    HarborRobot robot = pullRobot(namespace, name);
    robot
        .getSpec()
        .setConnectionRef(new ConnectionRef(ConnectionKind.ClusterHarborConnection, connection));
    return robot;
  }

  private String connection(AccessRule... rules) {
    String name = "shared-" + CONNECTIONS.incrementAndGet();
    harness.clusterConnection(name, c -> c.getSpec().setAccess(List.of(rules)));
    return name;
  }

  /**
   * Every request but the connection controller's own probe (an authenticated systeminfo, which
   * concerns no namespace or project).
   */
  private List<String> requestsForRobots() {
    return harbor.requestLog().stream()
        .filter(r -> !r.startsWith("GET /api/v2.0/systeminfo"))
        .toList();
  }

  @Test
  void aNamespaceCannotGetARobotForAnotherTeamsProjectAndHarborHearsNothingOfIt() {
    String teamA = harness.newTenant(Map.of());
    String teamB = harness.newTenant(Map.of());
    String shared = connection(rule(List.of(teamA), teamA), rule(List.of(teamB), teamB));
    HarborRobot intruder = viaCluster(teamA, "intruder", shared);
    intruder.getSpec().setProject(teamB);
    harness.create(intruder);

    HarborRobot denied = harness.awaitReason(teamA, "intruder", Reasons.NOT_ALLOWED);
    assertThat(OperatorHarness.ready(denied).orElseThrow().getMessage())
        .contains("ClusterHarborConnection " + shared)
        .contains("namespace " + teamA)
        .contains("not " + teamB);
    harness.awaitEvent(teamA, "intruder", Reasons.NOT_ALLOWED);
    // Several resyncs later, still not a single request to Harbor for it.
    await().pollDelay(Duration.ofSeconds(5)).until(() -> true);
    assertThat(requestsForRobots()).isEmpty();
    assertThat(harness.secret(teamA, "intruder")).isNull();
    assertThat(harbor.findRobot(teamB, "intruder")).isEmpty();
  }

  @Test
  void aConnectionWithoutRulesLetsNobodyIn() {
    String team = harness.newTenant(Map.of());
    String closed = connection();

    harness.create(viaCluster(team, "hopeful", closed));

    HarborRobot denied = harness.awaitReason(team, "hopeful", Reasons.NOT_ALLOWED);
    assertThat(OperatorHarness.ready(denied).orElseThrow().getMessage())
        .contains("has no access rules");
    assertThat(requestsForRobots()).isEmpty();
  }

  @Test
  void namespaceSelectorsAndProjectGlobsMatchAsDocumented() {
    String labelled = harness.newTenant(Map.of("tenant", "blue", "tier", "prod"));
    String other = harness.newTenant(Map.of("tenant", "green"));
    harbor.createProject(labelled + "-build");
    AccessRule byLabel = new AccessRule();
    byLabel.setNamespaceSelector(
        new LabelSelectorBuilder()
            .withMatchLabels(Map.of("tenant", "blue"))
            .addNewMatchExpression()
            .withKey("tier")
            .withOperator("In")
            .withValues("prod", "staging")
            .endMatchExpression()
            .build());
    byLabel.setProjects(List.of("tenant-?*-build"));
    String shared = connection(byLabel);

    HarborRobot build = viaCluster(labelled, "builder", shared);
    build.getSpec().setProject(labelled + "-build");
    harness.create(build);
    HarborRobot plain = viaCluster(labelled, "plain", shared);
    harness.create(plain);
    HarborRobot outsider = viaCluster(other, "outsider", shared);
    outsider.getSpec().setProject(labelled + "-build");
    harness.create(outsider);

    harness.awaitReady(labelled, "builder");
    assertThat(harness.dockerConfigLogsIn(harness.secret(labelled, "builder"))).isTrue();
    assertThat(
            OperatorHarness.ready(harness.awaitReason(labelled, "plain", Reasons.NOT_ALLOWED))
                .orElseThrow()
                .getMessage())
        .contains("[tenant-?*-build]");
    assertThat(
            OperatorHarness.ready(harness.awaitReason(other, "outsider", Reasons.NOT_ALLOWED))
                .orElseThrow()
                .getMessage())
        .contains("no access rule for namespace " + other);

    // Labels are read live: relabelling the namespace lets the outsider in.
    harness
        .client()
        .namespaces()
        .withName(other)
        .edit(
            n -> {
              n.getMetadata().setLabels(Map.of("tenant", "blue", "tier", "staging"));
              return n;
            });
    harness.awaitReady(other, "outsider");
  }

  @Test
  void changingTheRulesUpdatesRobotsAndNeverDeletesTheirRobots() {
    String team = harness.newTenant(Map.of());
    String shared = connection(rule(List.of(team), team));
    harness.create(viaCluster(team, "tenant-ci", shared));
    long id = harness.awaitReady(team, "tenant-ci").getStatus().getRobotId();

    harness.editClusterConnection(shared, c -> c.getSpec().setAccess(List.of()));

    harness.awaitReason(team, "tenant-ci", Reasons.NOT_ALLOWED);
    assertThat(harbor.robot(id)).as("revoking access deletes nothing").isPresent();
    assertThat(harness.dockerConfigLogsIn(harness.secret(team, "tenant-ci"))).isTrue();

    harness.editClusterConnection(
        shared, c -> c.getSpec().setAccess(List.of(rule(List.of(team), team))));
    harness.awaitReady(team, "tenant-ci");
    assertThat(harness.get(team, "tenant-ci").getStatus().getRobotId()).isEqualTo(id);

    // Deleting a HarborRobot whose access was withdrawn leaves its robot to an administrator.
    harness.editClusterConnection(shared, c -> c.getSpec().setAccess(List.of()));
    harness.awaitReason(team, "tenant-ci", Reasons.NOT_ALLOWED);
    int requestsBefore = requestsForRobots().size();
    harness.client().resource(harness.get(team, "tenant-ci")).delete();
    await().atMost(Duration.ofSeconds(30)).until(() -> harness.get(team, "tenant-ci") == null);
    assertThat(harbor.robot(id)).isPresent();
    assertThat(requestsForRobots()).hasSize(requestsBefore);
    harness.awaitEvent(team, "tenant-ci", Reasons.ORPHANED);
  }

  @Test
  void theDefaultConnectionServesRobotsThatNameNoneAndTwoDefaultsAreReported() {
    String team = harness.newTenant(Map.of());
    String first = "default-" + CONNECTIONS.incrementAndGet();
    harness.clusterConnection(
        first,
        c -> {
          c.getMetadata()
              .setAnnotations(Map.of(ClusterHarborConnection.DEFAULT_ANNOTATION, "true"));
          c.getSpec().setAccess(List.of(rule(List.of(team), team)));
        });
    HarborRobot robot = pullRobot(team, "defaulted");
    robot.getSpec().setConnectionRef(null);

    harness.create(robot);

    HarborRobot ready = harness.awaitReady(team, "defaulted");
    assertThat(ready.getStatus().getConnection()).isEqualTo("ClusterHarborConnection/" + first);

    String second = "default-" + CONNECTIONS.incrementAndGet();
    harness.clusterConnection(
        second,
        c ->
            c.getMetadata()
                .setAnnotations(Map.of(ClusterHarborConnection.DEFAULT_ANNOTATION, "true")));
    HarborRobot ambiguous = harness.awaitReason(team, "defaulted", Reasons.CONNECTION_NOT_FOUND);
    assertThat(OperatorHarness.ready(ambiguous).orElseThrow().getMessage())
        .contains("2 ClusterHarborConnections are marked default")
        .contains(first)
        .contains(second);
  }

  @Test
  void aNamespacedConnectionServesOnlyItsOwnNamespaceAndItsOwnSecrets() {
    String owner = harness.newTeam();
    String stranger = harness.newTenant(Map.of());
    HarborRobot borrowed = pullRobot(stranger, "borrowed");
    borrowed.getSpec().setProject(owner);
    borrowed
        .getSpec()
        .setConnectionRef(new ConnectionRef(ConnectionKind.HarborConnection, "harbor"));

    harness.create(borrowed);

    assertThat(
            OperatorHarness.ready(
                    harness.awaitReason(stranger, "borrowed", Reasons.CONNECTION_NOT_FOUND))
                .orElseThrow()
                .getMessage())
        .contains("not found in namespace " + stranger);

    // A HarborConnection pointing at another namespace's Secret (the API server's schema refuses
    // it; the operator refuses it too, should it get past).
    String sneaky =
        harness.newTeam(
            spec -> {
              SecretReference elsewhere = new SecretReference("harbor-admin");
              elsewhere.setNamespace(owner);
              spec.setCredentialsSecretRef(elsewhere);
            });
    harness.create(pullRobot(sneaky, "sneaky"));
    assertThat(
            OperatorHarness.ready(harness.awaitReason(sneaky, "sneaky", Reasons.INVALID_CONNECTION))
                .orElseThrow()
                .getMessage())
        .contains("only reads Secrets in its own namespace");
    assertThat(harbor.findRobot(sneaky, "sneaky")).isEmpty();
    assertThat(
            harness
                .client()
                .resources(HarborConnection.class)
                .inNamespace(sneaky)
                .list()
                .getItems())
        .hasSize(1);
  }

  @Test
  void aRobotIdForgedInTheTenantsSecretNeverReachesAnotherProjectsRobot() {
    String tenant = harness.newTeam();
    String victimProject = "victim-" + tenant;
    harbor.createProject(victimProject);
    long victim = harbor.createRobotByHand(victimProject, "ci", Set.of("repository:pull"), -1);
    harness.create(pullRobot(tenant, "ci"));
    long own = harness.awaitReady(tenant, "ci").getStatus().getRobotId();

    // The tenant may edit its own Secret: it points the bookkeeping at the victim's robot.
    harness
        .client()
        .secrets()
        .inNamespace(tenant)
        .withName("ci")
        .edit(
            s -> {
              s.getMetadata()
                  .getAnnotations()
                  .put(CredentialSecrets.ROBOT_ID, Long.toString(victim));
              return s;
            });
    await().pollDelay(Duration.ofSeconds(3)).until(() -> true);
    harness.client().resource(harness.get(tenant, "ci")).delete();
    await().atMost(Duration.ofSeconds(30)).until(() -> harness.get(tenant, "ci") == null);

    assertThat(harbor.robot(victim)).as("another project's robot is untouched").isPresent();
    assertThat(harbor.robot(victim).orElseThrow().updateTime())
        .isEqualTo(harbor.robot(victim).orElseThrow().creationTime());
    assertThat(harbor.robot(own)).as("the tenant's own robot was deleted").isEmpty();
  }

  @Test
  void pointingAWithdrawnRobotElsewhereDoesNotGetItsDeletionSent() {
    String team = harness.newTenant(Map.of());
    String shared = connection(rule(List.of(team), team));
    harness.create(viaCluster(team, "dodger", shared));
    long id = harness.awaitReady(team, "dodger").getStatus().getRobotId();
    harness.editClusterConnection(shared, c -> c.getSpec().setAccess(List.of()));
    harness.awaitReason(team, "dodger", Reasons.NOT_ALLOWED);

    // The tenant points the robot at a connection that does not exist, then deletes it: the
    // operator's last session for the robot must not be used to reach Harbor.
    harness.edit(
        team,
        "dodger",
        r ->
            r.getSpec()
                .setConnectionRef(new ConnectionRef(ConnectionKind.HarborConnection, "gone")));
    harness.awaitReason(team, "dodger", Reasons.CONNECTION_NOT_FOUND);
    int requestsBefore = requestsForRobots().size();
    harness.client().resource(harness.get(team, "dodger")).delete();
    await().pollDelay(Duration.ofSeconds(3)).until(() -> true);

    assertThat(harbor.robot(id)).isPresent();
    assertThat(requestsForRobots()).hasSize(requestsBefore);
  }
}
