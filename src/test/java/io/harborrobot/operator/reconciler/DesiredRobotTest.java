package io.harborrobot.operator.reconciler;

import static io.harborrobot.operator.TestRobots.pullRobot;
import static org.assertj.core.api.Assertions.assertThat;

import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.Permission;
import io.harborrobot.operator.api.v1alpha1.Preset;
import io.harborrobot.operator.api.v1alpha1.ProjectGrant;
import io.harborrobot.operator.api.v1alpha1.RobotLevel;
import io.harborrobot.operator.harbor.Access;
import io.harborrobot.operator.harbor.Robot;
import io.harborrobot.operator.harbor.RobotCreate;
import io.harborrobot.operator.harbor.RobotCreated;
import io.harborrobot.operator.harbor.RobotPermission;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class DesiredRobotTest {

  private static final Instant NOW = Instant.parse("2026-12-02T10:00:00Z");

  private static Robot robot(
      String description, boolean disabled, long duration, RobotPermission... scopes) {
    return new Robot(
        7L,
        "robot$team-a+ci",
        description,
        "project",
        duration,
        true,
        disabled,
        -1L,
        List.of(scopes),
        null,
        null);
  }

  private static HarborRobot ci() {
    HarborRobot robot = pullRobot("team-a", "ci");
    robot.getSpec().setPreset(Preset.CI);
    return robot;
  }

  private static RobotPermission ciScope(String effect) {
    return new RobotPermission(
        "project",
        "team-a",
        List.of(
            new Access("tag", "list", effect),
            new Access("artifact", "read", effect),
            new Access("repository", "push", effect),
            new Access("artifact", "list", effect),
            new Access("repository", "list", effect),
            new Access("repository", "pull", effect)));
  }

  @Test
  void permissionsCompareAsSetsWhateverTheOrderAndAnAbsentEffect() {
    DesiredRobot desired = DesiredRobot.of(ci());
    assertThat(desired.drift(robot(null, false, -1, ciScope(null)), NOW)).isEmpty();
    assertThat(desired.drift(robot("", false, -1, ciScope("allow")), NOW)).isEmpty();
  }

  @Test
  void eachDifferenceIsNamed() {
    DesiredRobot desired = DesiredRobot.of(ci());
    assertThat(desired.drift(robot("typed in the UI", true, 30, ciScope("deny")), NOW))
        .containsExactly("description", "disabled", "duration", "permissions");
    assertThat(
            desired.drift(
                robot(
                    null,
                    false,
                    -1,
                    new RobotPermission(
                        "project", "team-a", List.of(new Access("repository", "pull", null)))),
                NOW))
        .containsExactly("permissions");
  }

  @Test
  void theCreateBodyCarriesOneProjectScopeWithExplicitAllow() {
    RobotCreate create = DesiredRobot.of(ci()).toCreate("t-1");
    assertThat(create.name()).isEqualTo("ci");
    assertThat(create.description()).isEqualTo(DesiredRobot.ownerMarker("t-1")).contains("t-1");
    assertThat(create.level()).isEqualTo("project");
    assertThat(create.duration()).isEqualTo(-1);
    assertThat(create.permissions())
        .singleElement()
        .satisfies(
            scope -> {
              assertThat(scope.kind()).isEqualTo("project");
              assertThat(scope.namespace()).isEqualTo("team-a");
              assertThat(scope.access()).hasSize(6).allMatch(a -> "allow".equals(a.effect()));
            });
  }

  @Test
  void theUpdateBodyKeepsHarborsFullNameAndSendsEveryField() {
    HarborRobot spec = ci();
    spec.getMetadata().setUid("uid-1");
    spec.getSpec().setDisabled(true);
    spec.getSpec().setDurationDays(90);
    Robot update = DesiredRobot.of(spec).toUpdate(robot("x", false, -1, ciScope(null)), NOW);
    assertThat(update.id()).isEqualTo(7L);
    assertThat(update.name()).isEqualTo("robot$team-a+ci");
    assertThat(update.description()).isEqualTo(DesiredRobot.ownerMarker("uid-1"));
    assertThat(update.disable()).isTrue();
    assertThat(update.duration()).isEqualTo(90);
    assertThat(update.level()).isEqualTo("project");
  }

  @Test
  void theFullNameMatchesWhateverThePrefix() {
    DesiredRobot desired = DesiredRobot.of(ci());
    assertThat(desired.isNamed("robot$team-a+ci")).isTrue();
    assertThat(desired.isNamed("bot+x$team-a+ci")).isTrue();
    assertThat(desired.isNamed("robot$team-a+ci2")).isFalse();
    assertThat(desired.isNamed("robot$team-b+ci")).isFalse();
  }

  /** A robot as Harbor returns it, with repository:pull in one project scope. */
  private static Robot pulling(long id, String name, String level, String project) {
    return new Robot(
        id,
        name,
        "",
        level,
        -1L,
        true,
        false,
        -1L,
        List.of(
            new RobotPermission("project", project, List.of(Access.allow("repository", "pull")))),
        null,
        null);
  }

  @Test
  void aRecordedIdIsTrustedOnlyForARobotOfThisProject() {
    DesiredRobot desired = DesiredRobot.of(pullRobot("app", "ci"));
    Robot ours = pulling(1L, "robot$app+ci", "project", "app");
    Robot suffixTwin = pulling(2L, "robot$payments-app+ci", "project", "payments-app");
    Robot system = pulling(3L, "robot$app+ci", "system", "app");

    assertThat(desired.isThisRobot(ours)).isTrue();
    assertThat(desired.isNamed(suffixTwin.name())).as("the name alone would match").isTrue();
    assertThat(desired.isThisRobot(suffixTwin)).isFalse();
    assertThat(desired.isThisRobot(system)).isFalse();
  }

  @Test
  void aSystemRobotGetsOneScopePerProjectAndPullWhereverPushIsGranted() {
    HarborRobot spec = pullRobot("team-a", "scanner");
    spec.getSpec().setProject(null);
    spec.getSpec().setPreset(null);
    spec.getSpec().setLevel(RobotLevel.System);
    ProjectGrant pushOnly = new ProjectGrant();
    pushOnly.setName("builds");
    pushOnly.setPermissions(List.of(new Permission("repository", List.of("push"))));
    spec.getSpec().setProjects(List.of(new ProjectGrant("*", Preset.Pull), pushOnly));

    RobotCreate create = DesiredRobot.of(spec).toCreate("t");

    assertThat(create.level()).isEqualTo("system");
    assertThat(create.name()).isEqualTo("scanner");
    assertThat(create.permissions())
        .extracting(RobotPermission::namespace)
        .containsExactlyInAnyOrder("*", "builds");
    assertThat(create.permissions())
        .filteredOn(p -> p.namespace().equals("builds"))
        .singleElement()
        .satisfies(
            p ->
                assertThat(p.access())
                    .extracting(a -> a.resource() + ":" + a.action())
                    .containsExactlyInAnyOrder("repository:pull", "repository:push"));
    DesiredRobot desired = DesiredRobot.of(spec);
    assertThat(desired.isNamed("robot$scanner")).isTrue();
    assertThat(desired.isNamed("robot$team-a+scanner")).as("a project robot's name").isFalse();
    assertThat(desired.isNamed("robot$x-scanner")).isFalse();
  }

  /**
   * A robot just created is known from what was sent and what Harbor answered: it is in sync, so no
   * PUT follows the create. One created with an older create's token differs in its marker.
   */
  @Test
  void aRobotJustCreatedIsInSync() {
    HarborRobot cr = pullRobot("team-a", "app");
    cr.getMetadata().setUid("uid-1");
    cr.getSpec().setDescription("pulls the app");
    cr.getSpec().setDurationDays(30);
    DesiredRobot desired = DesiredRobot.of(cr);
    java.time.OffsetDateTime created = NOW.atOffset(java.time.ZoneOffset.UTC);
    RobotCreated response =
        new RobotCreated(
            7,
            "robot$team-a+app",
            null,
            created,
            NOW.plus(java.time.Duration.ofDays(30)).getEpochSecond());

    Robot robot = desired.asCreated(response, "uid-1");

    assertThat(robot.id()).isEqualTo(7);
    assertThat(robot.name()).isEqualTo("robot$team-a+app");
    assertThat(robot.description())
        .isEqualTo("pulls the app " + DesiredRobot.ownerMarker("uid-1"))
        .isEqualTo(desired.toCreate("uid-1").description());
    assertThat(desired.drift(robot, NOW)).isEmpty();
    assertThat(desired.drift(desired.asCreated(response, "t-1"), NOW))
        .containsExactly("description");
  }

  @Test
  void theDescriptionIsTheSpecsFollowedByTheMarkerAndAnOlderRobotsIsLeftAsItIs() {
    HarborRobot cr = ci();
    cr.getMetadata().setUid("uid-1");
    cr.getSpec().setDescription("builds images");
    DesiredRobot desired = DesiredRobot.of(cr);
    Robot marked =
        robot("builds images " + DesiredRobot.ownerMarker("uid-1"), false, -1, ciScope(null));

    assertThat(desired.drift(marked, NOW)).isEmpty();
    assertThat(desired.drift(marked.withDescription("builds images"), NOW))
        .as("as a release before the marker left it")
        .isEmpty();
    assertThat(desired.drift(marked.withDescription("edited by hand"), NOW))
        .containsExactly("description");
    assertThat(
            desired.drift(
                marked.withDescription("builds images " + DesiredRobot.ownerMarker("uid-2")), NOW))
        .as("another resource's marker")
        .containsExactly("description");
  }

  @Test
  void aRobotIsMarkedWithTheTokenItsDescriptionEndsWith() {
    Robot robot = robot("builds " + DesiredRobot.ownerMarker("uid-1"), false, -1, ciScope(null));

    assertThat(DesiredRobot.isMarkedWith(robot, "uid-1")).isTrue();
    assertThat(DesiredRobot.isMarkedWith(robot, "uid-2")).isFalse();
    assertThat(DesiredRobot.isMarkedWith(robot, null)).isFalse();
    assertThat(
            DesiredRobot.isMarkedWith(
                robot.withDescription(DesiredRobot.ownerMarker("uid-1") + " later"), "uid-1"))
        .as("the marker must end the description")
        .isFalse();
    assertThat(
            DesiredRobot.isMarkedWith(
                robot.withDescription("harbor-robot-operator is creating this robot (token t-1)"),
                "t-1"))
        .as("an earlier release's create under way")
        .isTrue();
  }
}
