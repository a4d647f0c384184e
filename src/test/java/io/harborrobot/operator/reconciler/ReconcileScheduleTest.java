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

  @Test
  void withNothingComingUpTheResyncPeriodDecides() {
    assertThat(reconciler.nextReconcile(robot("a"), null)).isEqualTo(RESYNC);
  }

  @Test
  void aRotationDueBeforeTheResyncIsWhenTheRobotIsLookedAtNext() {
    assertThat(reconciler.nextReconcile(robot("a"), T0.plus(Duration.ofMinutes(3))))
        .isEqualTo(Duration.ofMinutes(3));
    assertThat(reconciler.nextReconcile(robot("a"), T0.plus(Duration.ofDays(20))))
        .as("a rotation weeks away waits for the resyncs in between")
        .isEqualTo(RESYNC);
  }

  @Test
  void aCredentialCheckDueBeforeTheResyncComesFirst() {
    checks.record("a", "1:abc:robot$team-a+ci", T0.minus(Duration.ofMinutes(26)), true);
    assertThat(reconciler.nextReconcile(robot("a"), T0.plus(Duration.ofMinutes(5))))
        .isEqualTo(Duration.ofMinutes(4));
    assertThat(reconciler.nextReconcile(robot("b"), null)).isEqualTo(RESYNC);
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
