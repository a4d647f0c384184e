package io.harborrobot.operator.reconciler;

import static io.harborrobot.operator.reconciler.SyncBench.T0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.RotationSpec;
import io.harborrobot.operator.harbor.Robot;
import io.harborrobot.operator.sandbox.EmulatedRobot;
import io.harborrobot.operator.secret.CredentialSecrets;
import io.harborrobot.operator.secret.CredentialSecrets.Credential;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Expiry, renewal and rotation with the clock in the test's hands: Harbor's emulator and the sync
 * share a clock that only moves when the test moves it, so days pass without waiting.
 */
class RobotSyncRotationTest {

  private SyncBench bench;

  @BeforeEach
  void start() {
    bench = new SyncBench();
  }

  @AfterEach
  void stop() {
    bench.close();
  }

  private HarborRobot expiring(String name, int days, Integer renewBefore, int everyDays) {
    return bench.robot(
        name,
        r -> {
          r.getSpec().setDurationDays(days);
          RotationSpec rotation = new RotationSpec();
          rotation.setRenewBeforeDays(renewBefore);
          rotation.setEveryDays(everyDays);
          r.getSpec().setRotation(rotation);
        });
  }

  @Test
  void aRobotGetsANewSecretAndAFreshLifetimeRenewBeforeDaysBeforeItExpires() {
    HarborRobot cr = expiring("renewed", 30, 7, 0);
    RobotSync.Outcome created = bench.sync(cr);
    Credential first = bench.credential("renewed");
    assertThat(RotationPlan.expiry(created.robot())).isEqualTo(T0.plus(Duration.ofDays(30)));
    assertThat(created.nextRotation()).isEqualTo(T0.plus(Duration.ofDays(23)));

    bench.clock.advance(Duration.ofDays(23).minusSeconds(1));
    RobotSync.Outcome before = bench.sync(cr);
    assertThat(before.reason()).isEqualTo(Reasons.SYNCED);
    assertThat(bench.credential("renewed")).isEqualTo(first);

    bench.clock.advance(Duration.ofSeconds(2));
    Instant renewedAt = T0.plus(Duration.ofDays(23)).plusSeconds(1);
    RobotSync.Outcome renewed = bench.sync(cr);

    assertThat(renewed.reason()).isEqualTo(Reasons.ROTATED);
    Credential second = bench.credential("renewed");
    assertThat(second.password()).isNotEqualTo(first.password());
    assertThat(bench.logsIn("renewed")).isTrue();
    assertThat(bench.harbor.credentialsWork(first.username(), first.password())).isFalse();
    // Harbor counts from creation: 54 days (the ceiling of 23 days 1 second + 30 days).
    EmulatedRobot robot = bench.robotsNamed("renewed").get(0);
    assertThat(robot.duration()).isEqualTo(54);
    assertThat(Instant.ofEpochSecond(robot.expiresAt())).isEqualTo(T0.plus(Duration.ofDays(54)));
    assertThat(renewed.rotatedAt()).isEqualTo(renewedAt);
    assertThat(renewed.nextRotation()).isEqualTo(T0.plus(Duration.ofDays(47)));
    assertThat(bench.count(RobotMetrics.ROTATIONS, "trigger", "renewal")).isEqualTo(1);
  }

  @Test
  void withoutRenewBeforeDaysARobotRenewsAThirdOfItsLifetimeEarlyAtMostAWeek() {
    HarborRobot shortLived = expiring("short", 3, null, 0);
    HarborRobot longLived = expiring("long", 90, null, 0);

    assertThat(bench.sync(shortLived).nextRotation()).isEqualTo(T0.plus(Duration.ofDays(2)));
    assertThat(bench.sync(longLived).nextRotation()).isEqualTo(T0.plus(Duration.ofDays(83)));
  }

  @Test
  void aRobotThatExpiredWhileNobodyLookedIsRenewedAndWorksAgain() {
    HarborRobot cr = expiring("lapsed", 10, 2, 0);
    bench.sync(cr);
    bench.clock.advance(Duration.ofDays(11));
    assertThat(bench.logsIn("lapsed")).as("expired in Harbor").isFalse();

    RobotSync.Outcome outcome = bench.sync(cr);

    assertThat(bench.logsIn("lapsed")).isTrue();
    assertThat(outcome.reason()).isEqualTo(Reasons.CREDENTIAL_REPAIRED);
    assertThat(outcome.message()).contains("had expired");
    assertThat(RotationPlan.expiry(outcome.robot())).isAfter(bench.clock.instant());
    assertThat(bench.count(RobotMetrics.REPAIRS, "kind", "robot_expired")).isEqualTo(1);
  }

  @Test
  void aDurationShortenedByHandSoThatTheRobotExpiredIsUndone() {
    HarborRobot cr = expiring("cut-short", 30, 7, 0);
    bench.sync(cr);
    bench.clock.advance(Duration.ofDays(5));
    long id = bench.robotsNamed("cut-short").get(0).id();
    bench.harbor.setDurationByHand(id, 2);
    assertThat(bench.logsIn("cut-short")).isFalse();

    RobotSync.Outcome outcome = bench.sync(cr);

    assertThat(bench.logsIn("cut-short")).isTrue();
    assertThat(outcome.reason()).isEqualTo(Reasons.CREDENTIAL_REPAIRED);
    assertThat(Instant.ofEpochSecond(bench.robotsNamed("cut-short").get(0).expiresAt()))
        .isEqualTo(T0.plus(Duration.ofDays(35)));
  }

  @Test
  void everyDaysRotatesARobotThatNeverExpires() {
    HarborRobot cr = expiring("periodic", -1, null, 10);
    RobotSync.Outcome created = bench.sync(cr);
    String first = bench.credential("periodic").password();
    assertThat(created.nextRotation()).isEqualTo(T0.plus(Duration.ofDays(10)));

    bench.clock.advance(Duration.ofDays(10));
    RobotSync.Outcome rotated = bench.sync(cr);

    assertThat(rotated.reason()).isEqualTo(Reasons.ROTATED);
    assertThat(bench.credential("periodic").password()).isNotEqualTo(first);
    assertThat(bench.logsIn("periodic")).isTrue();
    assertThat(rotated.nextRotation()).isEqualTo(T0.plus(Duration.ofDays(20)));
    assertThat(rotated.robot().expiresAt()).isEqualTo(Robot.NEVER);
    assertThat(bench.count(RobotMetrics.ROTATIONS, "trigger", "schedule")).isEqualTo(1);
    assertThat(bench.sync(cr).reason()).as("once per period").isEqualTo(Reasons.SYNCED);
  }

  @Test
  void theNextRotationIsTheEarlierOfRenewalAndSchedule() {
    assertThat(bench.sync(expiring("both", 30, 7, 5)).nextRotation())
        .isEqualTo(T0.plus(Duration.ofDays(5)));
    assertThat(bench.sync(expiring("renewal-first", 30, 7, 25)).nextRotation())
        .isEqualTo(T0.plus(Duration.ofDays(23)));
    assertThat(bench.sync(expiring("neither", -1, null, 0)).nextRotation()).isNull();
  }

  @Test
  void eachNewValueOfTheRotateAnnotationRotatesOnce() {
    HarborRobot cr = bench.robot("on-demand", annotate("before-create"));
    bench.sync(cr);
    String created = bench.credential("on-demand").password();
    assertThat(bench.sync(cr).reason())
        .as("a value present at creation asks for nothing more")
        .isEqualTo(Reasons.SYNCED);

    cr = bench.requestRotation(cr, "2026-12-02T11:00");
    RobotSync.Outcome rotated = bench.sync(cr);
    String second = bench.credential("on-demand").password();

    assertThat(rotated.reason()).isEqualTo(Reasons.ROTATED);
    assertThat(second).isNotEqualTo(created);
    assertThat(bench.logsIn("on-demand")).isTrue();
    assertThat(bench.harbor.credentialsWork(rotated.robot().name(), created)).isFalse();
    assertThat(bench.sync(cr).reason()).isEqualTo(Reasons.SYNCED);
    assertThat(bench.credential("on-demand").password()).isEqualTo(second);

    cr = bench.requestRotation(cr, "again");
    assertThat(bench.sync(cr).reason()).isEqualTo(Reasons.ROTATED);
    assertThat(bench.credential("on-demand").password()).isNotIn(created, second);
    assertThat(bench.count(RobotMetrics.ROTATIONS, "trigger", "requested")).isEqualTo(2);
  }

  @Test
  void aSecretRefreshedInHarborIsFoundByTheNextScheduledCheckAndReplaced() {
    HarborRobot cr = bench.robot("refreshed", r -> {});
    bench.sync(cr);
    Credential stored = bench.credential("refreshed");
    long id = bench.robotsNamed("refreshed").get(0).id();
    String handMade = bench.harbor.refreshSecretByHand(id);
    assertThat(bench.logsIn("refreshed")).isFalse();

    // A check may be made a twentieth of the period early (at the resync nearest its due time).
    Duration early = SyncBench.CHECK_PERIOD.dividedBy(20);
    bench.clock.advance(SyncBench.CHECK_PERIOD.minus(early).minusSeconds(1));
    assertThat(bench.sync(cr).reason()).as("not checked again yet").isEqualTo(Reasons.SYNCED);
    assertThat(bench.steps).doesNotContain("harbor registryLoginSucceeds");

    bench.clock.advance(Duration.ofSeconds(1));
    RobotSync.Outcome repaired = bench.sync(cr);

    assertThat(repaired.reason()).isEqualTo(Reasons.CREDENTIAL_REPAIRED);
    assertThat(bench.logsIn("refreshed")).isTrue();
    assertThat(bench.credential("refreshed").password()).isNotEqualTo(stored.password());
    assertThat(bench.harbor.credentialsWork(stored.username(), handMade))
        .as("the hand-made secret counts as revoked")
        .isFalse();
    assertThat(bench.count(RobotMetrics.REPAIRS, "kind", "secret_refreshed_in_harbor"))
        .isEqualTo(1);
    assertThat(bench.count(RobotMetrics.CREDENTIAL_CHECKS, "result", "refused")).isEqualTo(1);
  }

  @Test
  void aCredentialIsCheckedAfterEveryChange() {
    HarborRobot cr = bench.robot("checked", r -> {});
    bench.sync(cr);
    assertThat(bench.steps).contains("harbor registryLoginSucceeds");

    bench.sync(cr);
    assertThat(bench.steps).as("nothing changed").doesNotContain("harbor registryLoginSucceeds");

    cr = bench.requestRotation(cr, "now");
    bench.sync(cr);
    assertThat(bench.steps).contains("harbor registryLoginSucceeds");
    assertThat(bench.count(RobotMetrics.CREDENTIAL_CHECKS, "result", "accepted")).isEqualTo(2);
  }

  @Test
  void theSecretRecordsWhenItsPasswordWasSet() {
    HarborRobot cr = expiring("stamped", -1, null, 3);
    bench.sync(cr);
    assertThat(bench.annotations("stamped"))
        .containsEntry(CredentialSecrets.ROTATED_AT, T0.toString());
    bench.clock.advance(Duration.ofDays(3));
    bench.sync(cr);
    assertThat(bench.annotations("stamped"))
        .containsEntry(CredentialSecrets.ROTATED_AT, T0.plus(Duration.ofDays(3)).toString());
  }

  private static Consumer<HarborRobot> annotate(String value) {
    return r -> r.getMetadata().getAnnotations().put(RotationPlan.ROTATE_ANNOTATION, value);
  }

  @Test
  void aRotationHarborRefusesLeavesTheWorkingCredentialInPlace() {
    HarborRobot cr = expiring("refused", 10, 3, 0);
    bench.sync(cr);
    Credential working = bench.credential("refused");
    bench.clock.advance(Duration.ofDays(8));
    bench.harbor.setReadOnly(true);
    try {
      assertThatThrownBy(() -> bench.sync(cr)).isInstanceOf(RuntimeException.class);
      assertThat(bench.credential("refused"))
          .as("workloads still read the working one")
          .isEqualTo(working);
      assertThat(bench.logsIn("refused")).isTrue();
      assertThat(bench.annotations("refused")).containsKey(CredentialSecrets.PENDING);
    } finally {
      bench.harbor.setReadOnly(false);
    }

    RobotSync.Outcome renewed = bench.sync(cr);

    assertThat(renewed.reason()).isEqualTo(Reasons.ROTATED);
    assertThat(bench.credential("refused").password()).isNotEqualTo(working.password());
    assertThat(bench.logsIn("refused")).isTrue();
    assertThat(bench.harbor.credentialsWork(working.username(), working.password())).isFalse();
    assertThat(bench.secret("refused").getData())
        .doesNotContainKey(CredentialSecrets.KEY_PENDING_PASSWORD);
    assertThat(RotationPlan.expiry(renewed.robot()))
        .isAfter(bench.clock.instant().plus(Duration.ofDays(9)));
  }

  @Test
  void aCredentialTheRegistryNeverAcceptedIsReportedNotReplacedAtEveryRestart() {
    HarborRobot cr = bench.robot("never-accepted", r -> {});
    // Something in front of /v2/ refuses every login, whatever the secret.
    bench.harbor.failNext("GET", "/v2/", 401, 3);

    for (int restart = 0; restart < 3; restart++) {
      bench.restart();
      assertThatThrownBy(() -> bench.sync(cr))
          .isInstanceOf(ReconcileProblem.class)
          .hasMessageContaining("refuses the login");
    }

    assertThat(bench.count(RobotMetrics.REPAIRS, "kind", "secret_refreshed_in_harbor")).isZero();
    assertThat(bench.harbor.requestCountsByRoute())
        .as("the secret set once, at creation")
        .containsEntry("PATCH /api/v2.0/robots/{id}", 1);
    bench.restart();
    assertThat(bench.sync(cr).reason()).isEqualTo(Reasons.SYNCED);
    assertThat(bench.logsIn("never-accepted")).isTrue();
  }

  @Test
  void aDisabledRobotIsNeitherCheckedNorScheduledForChecks() {
    HarborRobot cr = bench.robot("sleeper", r -> {});
    bench.sync(cr);
    assertThat(bench.nextCheck(cr)).isPresent();
    cr.getSpec().setDisabled(true);

    RobotSync.Outcome disabled = bench.sync(cr);
    bench.clock.advance(SyncBench.CHECK_PERIOD.plusMinutes(1));
    bench.sync(cr);

    assertThat(disabled.reason()).isEqualTo(Reasons.DISABLED);
    assertThat(bench.steps).doesNotContain("harbor registryLoginSucceeds");
    assertThat(bench.nextCheck(cr)).isEmpty();
  }
}
