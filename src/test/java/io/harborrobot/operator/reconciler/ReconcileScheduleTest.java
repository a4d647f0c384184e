package io.harborrobot.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.harborrobot.operator.TestClock;
import io.harborrobot.operator.TestRobots;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** When the next reconcile of a healthy robot is scheduled, and what wakes one up. */
class ReconcileScheduleTest {

  private static final Instant T0 = Instant.parse("2026-12-02T10:00:00Z");
  private static final Duration RESYNC = Duration.ofMinutes(10);
  private static final Duration BACKOFF = Duration.ofSeconds(2);

  private final TestClock clock = TestClock.fixed(T0);
  private final CredentialChecks checks = new CredentialChecks(Duration.ofMinutes(30));
  private final HarborRobotReconciler reconciler =
      new HarborRobotReconciler(null, null, null, checks, clock, BACKOFF, RESYNC);

  private static HarborRobot robot(String uid) {
    HarborRobot robot = TestRobots.pullRobot("team-a", "ci");
    robot.getMetadata().setUid(uid);
    robot.getMetadata().setGeneration(1L);
    return robot;
  }

  /** When the robot's next resync is, seen from T0. */
  private static Duration toNextResync(HarborRobot robot) {
    return Duration.between(
        T0,
        HarborRobotReconciler.nextResync(
            robot.getMetadata().getNamespace() + "/" + robot.getSpec().getProject(), T0, RESYNC));
  }

  @Test
  void withNothingComingUpTheRobotsNextResyncDecides() {
    Duration wait = reconciler.nextReconcile(robot("a"), null);

    assertThat(wait).isEqualTo(toNextResync(robot("a"))).isPositive().isLessThanOrEqualTo(RESYNC);
  }

  @Test
  void theRobotsOfAProjectResyncTogetherAndProjectsSpreadOverThePeriod() {
    Instant aMoment = HarborRobotReconciler.nextResync("team-a/team-a", T0, RESYNC);
    // Whenever a robot of the project was last reconciled, its next resync is one of the
    // project's moments, one period apart.
    for (int seconds = 0; seconds < 1200; seconds += 7) {
      Instant next =
          HarborRobotReconciler.nextResync("team-a/team-a", T0.plusSeconds(seconds), RESYNC);
      assertThat(Duration.between(aMoment, next).toMillis() % RESYNC.toMillis()).isZero();
      assertThat(next).isAfter(T0.plusSeconds(seconds));
      assertThat(Duration.between(T0.plusSeconds(seconds), next)).isLessThanOrEqualTo(RESYNC);
    }
    java.util.Set<Long> offsets = new java.util.HashSet<>();
    for (int project = 0; project < 50; project++) {
      offsets.add(
          HarborRobotReconciler.nextResync("team-a/p" + project, T0, RESYNC).toEpochMilli()
              / 60_000);
    }
    assertThat(offsets)
        .as("minutes of the period that 50 projects resync at")
        .hasSizeGreaterThan(5);
  }

  @Test
  void aRotationDueBeforeTheResyncIsWhenTheRobotIsLookedAtNext() {
    Duration soon = earlierThanResync(robot("a"));
    assertThat(reconciler.nextReconcile(robot("a"), T0.plus(soon))).isEqualTo(soon);
    assertThat(reconciler.nextReconcile(robot("a"), T0.plus(Duration.ofDays(20))))
        .as("a rotation weeks away waits for the resyncs in between")
        .isEqualTo(toNextResync(robot("a")));
  }

  @Test
  void credentialChecksRideOnResyncsUnlessTheyAreMoreFrequent() {
    Duration soon = earlierThanResync(robot("a"));
    checks.record("a", "1:abc:robot$team-a+ci", T0.minus(Duration.ofMinutes(30)).plus(soon), true);
    assertThat(reconciler.nextReconcile(robot("a"), null))
        .as("a 30-minute check is made at a 10-minute resync")
        .isEqualTo(toNextResync(robot("a")));

    CredentialChecks frequent = new CredentialChecks(Duration.ofMinutes(5));
    HarborRobotReconciler checkingOften =
        new HarborRobotReconciler(null, null, null, frequent, clock, BACKOFF, RESYNC);
    frequent.record("a", "1:abc:robot$team-a+ci", T0.minus(Duration.ofMinutes(5)).plus(soon), true);
    assertThat(checkingOften.nextReconcile(robot("a"), null)).isEqualTo(soon);
    assertThat(checkingOften.nextReconcile(robot("b"), null)).isEqualTo(toNextResync(robot("b")));
  }

  /** A moment before the robot's next resync (and after the retry backoff). */
  private static Duration earlierThanResync(HarborRobot robot) {
    Duration soon = toNextResync(robot).dividedBy(2);
    assertThat(soon).isGreaterThan(BACKOFF);
    return soon;
  }

  @Test
  void aMomentAlreadyPastIsHandledSoonButNotInALoop() {
    assertThat(reconciler.nextReconcile(robot("a"), T0.minus(Duration.ofDays(1))))
        .isEqualTo(BACKOFF);
  }

  @Test
  void aNewRotateAnnotationWakesTheReconcilerAndStatusWritesDoNot() {
    HarborRobot before = robot("a");
    HarborRobot statusWritten = robot("a");
    statusWritten.getMetadata().setResourceVersion("2");
    HarborRobot annotated = robot("a");
    annotated.getMetadata().getAnnotations().put(RotationPlan.ROTATE_ANNOTATION, "now");
    HarborRobot otherAnnotation = robot("a");
    otherAnnotation.getMetadata().getAnnotations().put("note", "hello");
    HarborRobot newSpec = robot("a");
    newSpec.getMetadata().setGeneration(2L);
    HarborRobot deleting = robot("a");
    deleting.getMetadata().setDeletionTimestamp("2026-12-02T10:00:00Z");
    HarborRobot finalized = robot("a");
    finalized.getMetadata().setFinalizers(List.of("harborrobot.io/finalizer"));

    assertThat(HarborRobotReconciler.worthReconciling(before, statusWritten)).isFalse();
    assertThat(HarborRobotReconciler.worthReconciling(before, otherAnnotation)).isFalse();
    assertThat(HarborRobotReconciler.worthReconciling(before, annotated)).isTrue();
    assertThat(HarborRobotReconciler.worthReconciling(before, newSpec)).isTrue();
    assertThat(HarborRobotReconciler.worthReconciling(before, deleting)).isTrue();
    assertThat(HarborRobotReconciler.worthReconciling(before, finalized)).isTrue();
  }
}
