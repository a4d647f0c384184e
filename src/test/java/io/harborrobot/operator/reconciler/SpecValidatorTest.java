package io.harborrobot.operator.reconciler;

import static io.harborrobot.operator.TestRobots.pullRobot;
import static org.assertj.core.api.Assertions.assertThat;

import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.Permission;
import io.harborrobot.operator.api.v1alpha1.Preset;
import io.harborrobot.operator.api.v1alpha1.RotationSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

class SpecValidatorTest {

  @Test
  void aPresetRobotIsValid() {
    assertThat(SpecValidator.problems(pullRobot("team-a", "app"))).isEmpty();
  }

  @Test
  void presetAndPermissionsAreExclusive() {
    HarborRobot both = pullRobot("team-a", "app");
    both.getSpec().setPermissions(List.of(new Permission("repository", List.of("pull"))));
    HarborRobot neither = pullRobot("team-a", "app");
    neither.getSpec().setPreset(null);

    assertThat(SpecValidator.problems(both)).contains("set exactly one of preset or permissions");
    assertThat(SpecValidator.problems(neither))
        .contains("set exactly one of preset or permissions");
  }

  /**
   * The CRD's other rules hold even where the API server does not enforce them, in its words: a
   * spec that reaches Harbor would be refused there or renew forever.
   */
  @Test
  void theCrdsOtherRulesAreCheckedInTheApiServersWords() {
    HarborRobot renewAtOnce = pullRobot("team-a", "app");
    renewAtOnce.getSpec().setDurationDays(30);
    RotationSpec rotation = new RotationSpec();
    rotation.setRenewBeforeDays(30);
    renewAtOnce.getSpec().setRotation(rotation);
    HarborRobot longDescription = pullRobot("team-a", "app");
    longDescription.getSpec().setDescription("x".repeat(5000));
    // Allowed actions, repeated: only the list's length is wrong.
    HarborRobot nineActions =
        withPermissions(
            new Permission(
                "repository",
                List.of("pull", "list", "pull", "list", "pull", "list", "pull", "list", "pull")));

    assertThat(SpecValidator.problems(renewAtOnce))
        .containsExactly(
            "spec: Invalid value: \"object\": rotation.renewBeforeDays must be less than"
                + " durationDays");
    assertThat(SpecValidator.problems(longDescription))
        .containsExactly("spec.description: Too long: may not be longer than 947");
    assertThat(SpecValidator.problems(nineActions))
        .anyMatch(p -> p.startsWith("spec.permissions[0].actions: Too many: 9"));
  }

  @Test
  void pushWithoutPullIsRefused() {
    HarborRobot robot = withPermissions(new Permission("repository", List.of("push")));
    assertThat(SpecValidator.problems(robot))
        .containsExactly(
            "repository push requires repository pull: add pull to the repository actions");
  }

  @Test
  void pairsHarborRefusesAreNamed() {
    HarborRobot robot =
        withPermissions(
            new Permission("repository", List.of("pull", "*")),
            new Permission("labels", List.of("read")));
    assertThat(SpecValidator.problems(robot))
        .containsExactly(
            "Harbor does not allow these project permissions: labels:read, repository:*");
  }

  @Test
  void aResourceListedTwiceIsRefused() {
    HarborRobot robot =
        withPermissions(
            new Permission("repository", List.of("pull")),
            new Permission("repository", List.of("list")));
    assertThat(SpecValidator.problems(robot))
        .containsExactly("each resource may appear only once in permissions");
  }

  @Test
  void durationMustBeMinusOneOrOneTo3650() {
    for (int days : new int[] {0, -2, 3651}) {
      HarborRobot robot = pullRobot("team-a", "app");
      robot.getSpec().setDurationDays(days);
      assertThat(SpecValidator.problems(robot))
          .as("durationDays %d", days)
          .containsExactly("durationDays must be -1 (never expires) or between 1 and 3650");
    }
    for (int days : new int[] {-1, 1, 3650}) {
      HarborRobot robot = pullRobot("team-a", "app");
      robot.getSpec().setDurationDays(days);
      assertThat(SpecValidator.problems(robot)).as("durationDays %d", days).isEmpty();
    }
  }

  @Test
  void namesFollowHarborsRules() {
    HarborRobot badDefault = pullRobot("team-a", "app--pull");
    assertThat(SpecValidator.problems(badDefault))
        .singleElement()
        .asString()
        .contains("'app--pull' is not valid in Harbor");

    HarborRobot fixed = pullRobot("team-a", "app--pull");
    fixed.getSpec().setRobotName("app-pull");
    assertThat(SpecValidator.problems(fixed)).isEmpty();

    HarborRobot upper = pullRobot("team-a", "app");
    upper.getSpec().setRobotName("App");
    assertThat(SpecValidator.problems(upper)).hasSize(1);

    HarborRobot tooLong = pullRobot("team-a", "app");
    tooLong.getSpec().setRobotName("a".repeat(250));
    assertThat(SpecValidator.problems(tooLong))
        .containsExactly("project and robot name together must be shorter than 255 characters");
  }

  @Test
  void everyPresetPasses() {
    for (Preset preset : Preset.values()) {
      HarborRobot robot = pullRobot("team-a", "app");
      robot.getSpec().setPreset(preset);
      assertThat(SpecValidator.problems(robot)).as(preset.name()).isEmpty();
    }
  }

  private static HarborRobot withPermissions(Permission... permissions) {
    HarborRobot robot = pullRobot("team-a", "app");
    robot.getSpec().setPreset(null);
    robot.getSpec().setPermissions(List.of(permissions));
    return robot;
  }

  @Test
  void theWarmUpRobotIsValid() {
    assertThat(SpecValidator.warmUp()).isEmpty();
  }
}
