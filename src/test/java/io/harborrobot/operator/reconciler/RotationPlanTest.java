package io.harborrobot.operator.reconciler;

import static io.harborrobot.operator.reconciler.RotationPlan.Trigger.RENEWAL;
import static io.harborrobot.operator.reconciler.RotationPlan.Trigger.REQUESTED;
import static io.harborrobot.operator.reconciler.RotationPlan.Trigger.SCHEDULE;
import static org.assertj.core.api.Assertions.assertThat;

import io.harborrobot.operator.TestRobots;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.RotationSpec;
import io.harborrobot.operator.harbor.Robot;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The rotation arithmetic at fixed instants: no clock, no Harbor. */
class RotationPlanTest {

  private static final Instant T0 = Instant.parse("2026-12-02T10:00:00Z");

  private static Instant day(double days) {
    return T0.plusSeconds(Math.round(days * 86_400));
  }

  private static HarborRobot spec(int durationDays, Integer renewBefore, int everyDays) {
    HarborRobot robot = TestRobots.pullRobot("team-a", "ci");
    robot.getSpec().setDurationDays(durationDays);
    RotationSpec rotation = new RotationSpec();
    rotation.setRenewBeforeDays(renewBefore);
    rotation.setEveryDays(everyDays);
    robot.getSpec().setRotation(rotation);
    return robot;
  }

  /** A robot created at T0 with {@code duration} days, as Harbor computes its expiry. */
  private static Robot createdAtT0(long duration) {
    long expiresAt = duration == -1 ? -1 : T0.getEpochSecond() + duration * 86_400;
    return new Robot(
        1L,
        "robot$team-a+ci",
        "",
        "project",
        duration,
        true,
        false,
        expiresAt,
        List.of(),
        T0.atOffset(ZoneOffset.UTC),
        T0.atOffset(ZoneOffset.UTC));
  }

  @Test
  void theRenewalLeadIsRenewBeforeDaysElseAThirdOfTheLifetimeAtMostAWeek() {
    assertThat(RotationPlan.lead(30, 10)).isEqualTo(Duration.ofDays(10));
    assertThat(RotationPlan.lead(90, null)).isEqualTo(Duration.ofDays(7));
    assertThat(RotationPlan.lead(9, null)).isEqualTo(Duration.ofDays(3));
    assertThat(RotationPlan.lead(1, null)).isEqualTo(Duration.ofHours(8));
    assertThat(RotationPlan.lead(-1, 7)).isNull();
  }

  @Test
  void renewalIsDueFromTheLeadBeforeExpiryOn() {
    RotationPlan plan = RotationPlan.of(spec(30, 7, 0));
    Robot robot = createdAtT0(30);

    assertThat(plan.due(robot, T0, null, day(23).minusSeconds(1))).isEmpty();
    assertThat(plan.due(robot, T0, null, day(23))).contains(RENEWAL);
    assertThat(plan.due(robot, T0, null, day(40))).as("expired").contains(RENEWAL);
    assertThat(plan.nextRotation(robot, T0)).contains(day(23));
  }

  @Test
  void aRenewalPutsTheExpiryDurationDaysFromNowCountedFromCreation() {
    RotationPlan plan = RotationPlan.of(spec(30, 7, 0));
    Robot robot = createdAtT0(30);

    assertThat(plan.durationFor(robot, day(10))).as("not due: unchanged").isEqualTo(30);
    assertThat(plan.durationFor(robot, day(23))).isEqualTo(53);
    assertThat(plan.durationFor(robot, day(23).plusSeconds(1))).as("rounded up").isEqualTo(54);
    assertThat(plan.durationFor(createdAtT0(54), day(30))).as("renewed: unchanged").isEqualTo(54);
  }

  @Test
  void aSpecChangeTakesDurationDaysFromCreationWhenThatIsNotDueForRenewal() {
    assertThat(RotationPlan.of(spec(30, 7, 0)).durationFor(createdAtT0(-1), day(1)))
        .as("never expired: 30 days from creation")
        .isEqualTo(30);
    assertThat(RotationPlan.of(spec(90, 7, 0)).durationFor(createdAtT0(30), day(1)))
        .as("lengthened")
        .isEqualTo(90);
    assertThat(RotationPlan.of(spec(30, 7, 0)).durationFor(createdAtT0(90), day(1)))
        .as("shortened")
        .isEqualTo(30);
    assertThat(RotationPlan.of(spec(30, 7, 0)).durationFor(createdAtT0(-1), day(25)))
        .as("30 days from creation would already be due: a fresh lifetime")
        .isEqualTo(55);
    assertThat(RotationPlan.of(spec(-1, null, 0)).durationFor(createdAtT0(30), day(1)))
        .isEqualTo(-1);
  }

  @Test
  void everyDaysCountsFromTheLastRotation() {
    RotationPlan plan = RotationPlan.of(spec(-1, null, 10));
    Robot robot = createdAtT0(-1);

    assertThat(plan.due(robot, day(5), null, day(15).minusSeconds(1))).isEmpty();
    assertThat(plan.due(robot, day(5), null, day(15))).contains(SCHEDULE);
    assertThat(plan.nextRotation(robot, day(5))).contains(day(15));
    assertThat(plan.nextRotation(robot, null)).isEmpty();
  }

  @Test
  void theNextRotationIsTheEarlierOfRenewalAndSchedule() {
    Robot robot = createdAtT0(30);
    assertThat(RotationPlan.of(spec(30, 7, 5)).nextRotation(robot, T0)).contains(day(5));
    assertThat(RotationPlan.of(spec(30, 7, 25)).nextRotation(robot, T0)).contains(day(23));
    assertThat(RotationPlan.of(spec(-1, null, 0)).nextRotation(createdAtT0(-1), T0)).isEmpty();
  }

  @Test
  void aNewRotateAnnotationValueIsDueOnceAndComesFirst() {
    HarborRobot cr = spec(30, 7, 0);
    cr.getMetadata().getAnnotations().put(RotationPlan.ROTATE_ANNOTATION, "2026-12-02");
    RotationPlan plan = RotationPlan.of(cr);

    assertThat(plan.due(createdAtT0(30), T0, null, day(1))).contains(REQUESTED);
    assertThat(plan.due(createdAtT0(30), T0, "2026-12-01", day(25))).contains(REQUESTED);
    assertThat(plan.due(createdAtT0(30), T0, "2026-12-02", day(1))).isEmpty();
    assertThat(plan.due(createdAtT0(30), T0, "2026-12-02", day(25))).contains(RENEWAL);
  }

  @Test
  void aRobotThatNeverExpiresIsNeverRenewed() {
    RotationPlan plan = RotationPlan.of(spec(-1, 7, 0));
    assertThat(plan.due(createdAtT0(-1), T0, null, day(5000))).isEmpty();
    assertThat(RotationPlan.expired(createdAtT0(-1), day(5000))).isFalse();
    assertThat(RotationPlan.expired(createdAtT0(30), day(30))).isTrue();
  }
}
