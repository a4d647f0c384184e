package io.harborrobot.operator.reconciler;

import static io.harborrobot.operator.OperatorHarness.decode;
import static io.harborrobot.operator.OperatorHarness.pullRobot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.harborrobot.operator.OperatorHarness;
import io.harborrobot.operator.api.v1alpha1.DeletionPolicy;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.RotationSpec;
import io.harborrobot.operator.sandbox.EmulatedRobot;
import io.harborrobot.operator.sandbox.HarborEmulator;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Credentials that keep working (DESIGN.md §4.3–4.5), end to end through the running operator:
 * every repair and rotation path ends with a Secret that logs in to the registry and, where a
 * credential was replaced, an old one that no longer does; each leaves an Event and a metric.
 */
class CredentialLifecycleIT {

  private static OperatorHarness harness;
  private static HarborEmulator harbor;

  @BeforeAll
  static void start() {
    harness = OperatorHarness.start();
    harbor = harness.harbor();
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  private static String password(String team, String secret) {
    return decode(harness.secret(team, secret), "password");
  }

  private static String username(String team, String secret) {
    return decode(harness.secret(team, secret), "username");
  }

  /** Waits until the Secret's password is not {@code old} and the Secret logs in. */
  private static void awaitReplacedAndWorking(String team, String name, String old) {
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> harness.secret(team, name),
            s -> s != null && !decode(s, "password").equals(old) && harness.dockerConfigLogsIn(s));
  }

  private static double repairs(String kind) {
    return harness.count(RobotMetrics.REPAIRS, "kind", kind);
  }

  @Test
  void aSecretRefreshedInHarborByHandIsReplacedOnTheNextCredentialCheck() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "refreshed"));
    long id = harness.awaitReady(team, "refreshed").getStatus().getRobotId();
    String stored = password(team, "refreshed");
    double before = repairs("secret_refreshed_in_harbor");

    String handMade = harbor.refreshSecretByHand(id);

    awaitReplacedAndWorking(team, "refreshed", stored);
    assertThat(harbor.credentialsWork(username(team, "refreshed"), handMade))
        .as("a secret refreshed by hand counts as revoked")
        .isFalse();
    assertThat(harbor.credentialsWork(username(team, "refreshed"), stored)).isFalse();
    harness.awaitEvent(team, "refreshed", Reasons.CREDENTIAL_REPAIRED);
    assertThat(repairs("secret_refreshed_in_harbor")).isGreaterThan(before);
    assertThat(harbor.robots()).filteredOn(r -> team.equals(r.project())).hasSize(1);
  }

  @Test
  void aRobotDisabledByHandIsEnabledAgain() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "switched-off"));
    long id = harness.awaitReady(team, "switched-off").getStatus().getRobotId();
    double before = repairs("robot_disabled");

    harbor.setDisabledByHand(id, true);

    await().atMost(Duration.ofSeconds(30)).until(() -> !harbor.robot(id).orElseThrow().disabled());
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> harness.dockerConfigLogsIn(harness.secret(team, "switched-off")));
    harness.awaitEvent(team, "switched-off", Reasons.CREDENTIAL_REPAIRED);
    assertThat(repairs("robot_disabled")).isGreaterThan(before);
  }

  @Test
  void aRobotExpiredByHandIsRenewedAndWorksAgain() {
    String team = harness.newTeam();
    HarborRobot robot = pullRobot(team, "cut-short");
    robot.getSpec().setDurationDays(30);
    harness.create(robot);
    long id = harness.awaitReady(team, "cut-short").getStatus().getRobotId();
    double before = repairs("robot_expired");

    // Somebody edits the duration in the UI to a single day: counted from creation, and with
    // two days gone, the robot has expired. (While the operator is stopped, so that no pass sees
    // the new duration with the old time.)
    harness.whileStopped(
        () -> {
          harness.clock().advance(Duration.ofDays(2));
          harbor.setDurationByHand(id, 1);
          assertThat(harness.dockerConfigLogsIn(harness.secret(team, "cut-short"))).isFalse();
        });

    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> harness.dockerConfigLogsIn(harness.secret(team, "cut-short")));
    EmulatedRobot renewed = harbor.robot(id).orElseThrow();
    assertThat(Instant.ofEpochSecond(renewed.expiresAt())).isAfter(harness.clock().instant());
    harness.awaitEvent(team, "cut-short", Reasons.CREDENTIAL_REPAIRED);
    assertThat(repairs("robot_expired")).isGreaterThan(before);
  }

  @Test
  void theRotateAnnotationReplacesTheSecretAtOnce() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "on-demand"));
    harness.awaitReady(team, "on-demand");
    String old = password(team, "on-demand");
    String user = username(team, "on-demand");

    harness.edit(
        team,
        "on-demand",
        r -> r.getMetadata().getAnnotations().put(RotationPlan.ROTATE_ANNOTATION, "ticket-42"));

    awaitReplacedAndWorking(team, "on-demand", old);
    assertThat(harbor.credentialsWork(user, old)).isFalse();
    // The Event is the record; the Ready reason says Rotated only until the next pass.
    harness.awaitEvent(team, "on-demand", Reasons.ROTATED);
    assertThat(harness.get(team, "on-demand").getStatus().getLastRotationTime()).isNotNull();
    assertThat(harness.count(RobotMetrics.ROTATIONS, "trigger", "requested")).isPositive();
  }

  @Test
  void anExpiringRobotIsRenewedWithANewSecretBeforeItExpires() {
    String team = harness.newTeam();
    HarborRobot robot = pullRobot(team, "renewed");
    robot.getSpec().setDurationDays(10);
    robot.getSpec().setRotation(rotation(3, 0));
    harness.create(robot);
    HarborRobot created = harness.awaitReady(team, "renewed");
    long id = created.getStatus().getRobotId();
    Instant expires = Instant.parse(created.getStatus().getExpiresAt());
    assertThat(Instant.parse(created.getStatus().getNextRotationTime()))
        .isEqualTo(expires.minus(Duration.ofDays(3)));
    String old = password(team, "renewed");

    harness.clock().advance(Duration.ofDays(8));

    awaitReplacedAndWorking(team, "renewed", old);
    assertThat(harbor.credentialsWork(username(team, "renewed"), old)).isFalse();
    HarborRobot renewed =
        awaitStatus(
            team,
            "renewed",
            r ->
                r.getStatus().getExpiresAt() != null
                    && Instant.parse(r.getStatus().getExpiresAt()).isAfter(expires));
    assertThat(Instant.parse(renewed.getStatus().getExpiresAt()))
        .isAfter(harness.clock().instant().plus(Duration.ofDays(9)));
    assertThat(Instant.ofEpochSecond(harbor.robot(id).orElseThrow().expiresAt()))
        .isEqualTo(Instant.parse(renewed.getStatus().getExpiresAt()));
    assertThat(harness.count(RobotMetrics.ROTATIONS, "trigger", "renewal")).isPositive();
  }

  @Test
  void everyDaysRotatesARobotThatNeverExpires() {
    String team = harness.newTeam();
    HarborRobot robot = pullRobot(team, "periodic");
    robot.getSpec().setRotation(rotation(null, 30));
    harness.create(robot);
    HarborRobot created = harness.awaitReady(team, "periodic");
    assertThat(created.getStatus().getExpiresAt()).isNull();
    assertThat(created.getStatus().getNextRotationTime()).isNotNull();
    String old = password(team, "periodic");

    harness.clock().advance(Duration.ofDays(30));

    awaitReplacedAndWorking(team, "periodic", old);
    assertThat(harbor.credentialsWork(username(team, "periodic"), old)).isFalse();
    awaitStatus(
        team,
        "periodic",
        r ->
            Instant.parse(r.getStatus().getNextRotationTime())
                .isAfter(harness.clock().instant().plus(Duration.ofDays(29))));
  }

  @Test
  void aRobotReappliedIntoANewClusterIsReportedWithTheFixAndAdoptedWhenAsked() {
    String team = harness.newTeam();
    // The robot a previous cluster created; its secret went with that cluster.
    long id = harbor.createRobotByHand(team, "migrated", Set.of("repository:pull"), -1);

    harness.create(pullRobot(team, "migrated"));

    HarborRobot conflict = harness.awaitReason(team, "migrated", Reasons.ROBOT_CONFLICT);
    assertThat(OperatorHarness.ready(conflict).orElseThrow().getMessage())
        .contains("adoptExisting: true");
    assertThat(harness.secret(team, "migrated")).isNull();

    harness.edit(team, "migrated", r -> r.getSpec().setAdoptExisting(true));

    harness.awaitReady(team, "migrated");
    assertThat(harness.get(team, "migrated").getStatus().getRobotId()).isEqualTo(id);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> harness.dockerConfigLogsIn(harness.secret(team, "migrated")));
    harness.awaitEvent(team, "migrated", Reasons.ADOPTED);
    assertThat(harbor.robots()).filteredOn(r -> team.equals(r.project())).hasSize(1);
  }

  @Test
  void theOlderOfTwoResourcesForOneRobotKeepsItEvenAgainstAdoption() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "contested"));
    long id = harness.awaitReady(team, "contested").getStatus().getRobotId();
    String password = password(team, "contested");
    String otherTeam = harness.newTeam();
    HarborRobot newer = pullRobot(otherTeam, "contested");
    newer.getSpec().setProject(team);
    newer.getSpec().setAdoptExisting(true);
    newer.getSpec().setDeletionPolicy(DeletionPolicy.Delete);

    harness.create(newer);

    HarborRobot refused = harness.awaitReason(otherTeam, "contested", Reasons.ROBOT_CONFLICT);
    assertThat(OperatorHarness.ready(refused).orElseThrow().getMessage())
        .contains("HarborRobot " + team + "/contested manages");
    assertThat(harness.secret(otherTeam, "contested")).isNull();
    assertThat(password(team, "contested")).isEqualTo(password);
    assertThat(harness.dockerConfigLogsIn(harness.secret(team, "contested"))).isTrue();

    // Deleting the newer one must not take the robot with it.
    harness.client().resource(harness.get(otherTeam, "contested")).delete();
    await().atMost(Duration.ofSeconds(30)).until(() -> harness.get(otherTeam, "contested") == null);
    assertThat(harbor.robot(id)).isPresent();
    assertThat(harness.dockerConfigLogsIn(harness.secret(team, "contested"))).isTrue();
  }

  private static RotationSpec rotation(Integer renewBeforeDays, int everyDays) {
    RotationSpec rotation = new RotationSpec();
    rotation.setRenewBeforeDays(renewBeforeDays);
    rotation.setEveryDays(everyDays);
    return rotation;
  }

  private static HarborRobot awaitStatus(
      String team, String name, Predicate<HarborRobot> condition) {
    return await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> harness.get(team, name), r -> r.getStatus() != null && condition.test(r));
  }
}
