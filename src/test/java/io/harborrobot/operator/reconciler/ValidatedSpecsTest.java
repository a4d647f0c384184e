package io.harborrobot.operator.reconciler;

import static io.harborrobot.operator.TestRobots.pullRobot;
import static org.assertj.core.api.Assertions.assertThat;

import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A spec is checked once per generation; a new generation is checked afresh. */
class ValidatedSpecsTest {

  private final AtomicInteger checks = new AtomicInteger();
  private final ValidatedSpecs specs =
      new ValidatedSpecs(
          robot -> {
            checks.incrementAndGet();
            return SpecValidator.problems(robot);
          });

  private static HarborRobot robot(String uid, Long generation, Integer durationDays) {
    HarborRobot robot = pullRobot("team-a", "app");
    robot.getMetadata().setUid(uid);
    robot.getMetadata().setGeneration(generation);
    robot.getSpec().setDurationDays(durationDays);
    return robot;
  }

  @Test
  void anUnchangedSpecIsCheckedOnceAndKeepsItsProblems() {
    HarborRobot invalid = robot("uid-1", 1L, 0);

    List<String> first = specs.problems(invalid);
    List<String> again = specs.problems(robot("uid-1", 1L, 0));

    assertThat(first).contains("durationDays must be -1 (never expires) or between 1 and 3650");
    assertThat(again).isEqualTo(first);
    assertThat(checks).hasValue(1);
  }

  @Test
  void aNewGenerationIsCheckedAgain() {
    assertThat(specs.problems(robot("uid-1", 1L, 0))).isNotEmpty();

    assertThat(specs.problems(robot("uid-1", 2L, 30))).as("the fixed spec").isEmpty();
    assertThat(specs.problems(robot("uid-1", 3L, 0))).as("broken again").isNotEmpty();
    assertThat(checks).hasValue(3);
  }

  @Test
  void resourcesAreKeptApartAndForgottenOnDeletion() {
    specs.problems(robot("uid-1", 1L, 30));
    specs.problems(robot("uid-2", 1L, 0));
    assertThat(specs.problems(robot("uid-2", 1L, 0))).isNotEmpty();
    assertThat(specs.size()).isEqualTo(2);

    specs.forget("uid-1");

    assertThat(specs.size()).isEqualTo(1);
    specs.problems(robot("uid-1", 1L, 30));
    assertThat(checks).hasValue(3);
  }

  @Test
  void anObjectWithoutUidOrGenerationIsAlwaysChecked() {
    specs.problems(robot(null, 1L, 30));
    specs.problems(robot(null, 1L, 30));
    specs.problems(robot("uid-1", null, 30));

    assertThat(checks).hasValue(3);
    assertThat(specs.size()).isZero();
  }
}
