package io.harborrobot.operator.reconciler;

import static io.harborrobot.operator.OperatorHarness.pullRobot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.harborrobot.operator.OperatorHarness;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.sandbox.EmulatedRobot;
import io.harborrobot.operator.sandbox.HarborEmulator;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Harbors as they are out there: big projects, older releases, read-only mode. */
class HarborCompatibilityIT {

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

  @AfterEach
  void backToACurrentHarbor() {
    harbor.setVersion("v2.15.2");
    harbor.setReadOnly(false);
  }

  @Test
  void aProjectWithAThousandRobotsIsSearchedNotListed() {
    String team = harness.newTeam();
    for (int i = 0; i < 1000; i++) {
      harbor.createRobotByHand(team, "other-" + i, Set.of("repository:pull"), -1);
    }
    int start = harbor.requestLog().size();
    // The create's answer is lost: the next pass meets 409 and looks the robot up by name.
    harbor.loseResponseNext("POST", "/api/v2.0/robots");

    harness.create(pullRobot(team, "needle"));

    long id = harness.awaitReady(team, "needle").getStatus().getRobotId();
    List<String> lists =
        requestsSince(start).stream()
            .filter(r -> r.startsWith("GET /api/v2.0/robots?") && r.contains("needle"))
            .toList();
    assertThat(lists).as("one filtered page finds the robot among 1,000").hasSize(1);
    assertThat(lists.get(0)).contains("page_size=100");
    assertThat(harbor.robots()).filteredOn(r -> team.equals(r.project())).hasSize(1001);

    // Resyncs read the one robot by id: the project's eleven pages are listed at most once.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                requestsSince(start).stream().filter(("GET /api/v2.0/robots/" + id)::equals).count()
                    >= 3);
    String wholeProject = "ProjectID=" + harbor.projectId(team).orElseThrow() + "&";
    assertThat(requestsSince(start))
        .filteredOn(r -> r.startsWith("GET /api/v2.0/robots?") && r.contains(wholeProject))
        .hasSizeLessThanOrEqualTo(11);
  }

  /** Harbor's requests since the {@code start}th, with their queries decoded. */
  private static List<String> requestsSince(int start) {
    List<String> log = harbor.requestLog();
    return log.subList(start, log.size()).stream()
        .map(r -> URLDecoder.decode(r, StandardCharsets.UTF_8))
        .toList();
  }

  @Test
  void aRobotWhoseNameIsContainedInAThousandOthersIsFoundOnALaterPage() {
    String team = harness.newTeam();
    int start = harbor.requestLog().size();
    long ours =
        harness.whileStopped(
            () -> {
              // 1,000 robots whose names contain "ci"; then the operator created robot ci and
              // stopped before recording it. name=~ci matches all of them (Harbor's =~ is
              // "contains"), so the lookup after the next create's 409 pages through them (sorted
              // by name, ci comes last) and keeps only the exact name.
              for (int i = 0; i < 1000; i++) {
                harbor.createRobotByHand(
                    team, String.format("aci-%04d", i), Set.of("repository:pull"), -1);
              }
              HarborRobot robot = harness.create(pullRobot(team, "ci"));
              long created = harbor.createRobotByHand(team, "ci", Set.of("repository:pull"), -1);
              harbor.setDescriptionByHand(
                  created, DesiredRobot.ownerMarker(robot.getMetadata().getUid()));
              return created;
            });
    long id = harbor.findRobot(team, "aci-0500").orElseThrow().id();

    harness.awaitReady(team, "ci");

    assertThat(harness.get(team, "ci").getStatus().getRobotId()).isEqualTo(ours);
    assertThat(harbor.robot(id).orElseThrow().updateTime())
        .isEqualTo(harbor.robot(id).orElseThrow().creationTime());
    assertThat(harbor.robots()).filteredOn(r -> team.equals(r.project())).hasSize(1001);
    assertThat(
            harbor.requestLog().subList(start, harbor.requestLog().size()).stream()
                .filter(r -> r.startsWith("GET /api/v2.0/robots?") && r.contains("%7Eci&")))
        .as("every page of the 1,001 matches, 100 at a time")
        .hasSize(11);
  }

  @Test
  void aHarborWithoutTheRobotApiIsRefusedClearly() {
    harbor.setVersion("v2.1.0");
    String team = harness.newTeam();

    harness.create(pullRobot(team, "too-old"));

    HarborRobot robot = harness.awaitReason(team, "too-old", Reasons.HARBOR_VERSION_UNSUPPORTED);
    assertThat(OperatorHarness.ready(robot).orElseThrow().getMessage())
        .contains("v2.1.0")
        .contains("v2.2.0 or later");
    assertThat(harbor.findRobot(team, "too-old")).isEmpty();
  }

  @Test
  void anOlderHarborWithTheRobotApiWorks() {
    harbor.setVersion("v2.9.1");
    String team = harness.newTeam();
    HarborRobot robot = pullRobot(team, "vintage");
    robot.getSpec().setDurationDays(30);
    harness.create(robot);
    long id = harness.awaitReady(team, "vintage").getStatus().getRobotId();

    harness.edit(team, "vintage", r -> r.getSpec().setDescription("still here"));

    harness.awaitReason(team, "vintage", Reasons.SYNCED);
    EmulatedRobot inHarbor = harbor.robot(id).orElseThrow();
    // Before 2.11 a PUT without duration resets it to the default; the operator always sends it.
    assertThat(inHarbor.duration()).isEqualTo(30);
    assertThat(inHarbor.description())
        .isEqualTo(DesiredRobot.of(harness.get(team, "vintage")).harborDescription())
        .startsWith("still here (managed by harbor-robot-operator; uid ");
    assertThat(harness.dockerConfigLogsIn(harness.secret(team, "vintage"))).isTrue();
  }

  @Test
  void readOnlyModeIsReportedAndOutlived() {
    String team = harness.newTeam();
    harbor.setReadOnly(true);

    harness.create(pullRobot(team, "patient"));

    harness.awaitReason(team, "patient", Reasons.HARBOR_READ_ONLY);
    assertThat(harbor.findRobot(team, "patient")).isEmpty();
    harbor.setReadOnly(false);
    harness.awaitReady(team, "patient");
    assertThat(harness.dockerConfigLogsIn(harness.secret(team, "patient"))).isTrue();
  }
}
