package io.harborrobot.operator.reconciler;

import static io.harborrobot.operator.OperatorHarness.pullRobot;
import static io.harborrobot.operator.OperatorHarness.rule;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.harborrobot.operator.OperatorHarness;
import io.harborrobot.operator.api.v1alpha1.AccessRule;
import io.harborrobot.operator.api.v1alpha1.ConnectionKind;
import io.harborrobot.operator.api.v1alpha1.ConnectionRef;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.Preset;
import io.harborrobot.operator.api.v1alpha1.ProjectGrant;
import io.harborrobot.operator.api.v1alpha1.RobotLevel;
import io.harborrobot.operator.sandbox.HarborEmulator;
import io.harborrobot.operator.sandbox.Sandbox;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** System-level robots: one robot, grants in several projects (DESIGN.md §3.1). */
class SystemRobotsIT {

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

  private static HarborRobot systemRobot(String namespace, String name, ProjectGrant... grants) {
    HarborRobot robot = pullRobot(namespace, name);
    robot.getSpec().setProject(null);
    robot.getSpec().setPreset(null);
    robot.getSpec().setLevel(RobotLevel.System);
    robot.getSpec().setProjects(List.of(grants));
    return robot;
  }

  private static String adminAuth() {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString(
                (Sandbox.ADMIN_USER + ":" + Sandbox.ADMIN_PASSWORD)
                    .getBytes(StandardCharsets.UTF_8));
  }

  /** A system robot an administrator made in Harbor, pulling from every project; its id. */
  private static long platformRobot(String name) throws Exception {
    String body =
        "{\"name\":\""
            + name
            + "\",\"level\":\"system\",\"duration\":-1,\"permissions\":[{\"kind\":\"project\","
            + "\"namespace\":\"*\",\"access\":[{\"resource\":\"repository\",\"action\":\"pull\","
            + "\"effect\":\"allow\"}]}]}";
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(harbor.baseUrl() + "/api/v2.0/robots"))
                    .header("Authorization", adminAuth())
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
    return new ObjectMapper().readTree(response.body()).path("id").asLong();
  }

  /** The robot's permissions as Harbor holds them: project to "resource:action" pairs. */
  private static Map<String, Set<String>> permissionsInHarbor(long id) throws Exception {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(harbor.baseUrl() + "/api/v2.0/robots/" + id))
                    .header("Authorization", adminAuth())
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    JsonNode robot = new ObjectMapper().readTree(response.body());
    assertThat(robot.path("level").asText()).isEqualTo("system");
    Map<String, Set<String>> granted = new TreeMap<>();
    for (JsonNode scope : robot.path("permissions")) {
      Set<String> pairs =
          granted.computeIfAbsent(scope.path("namespace").asText(), n -> new TreeSet<>());
      for (JsonNode access : scope.path("access")) {
        pairs.add(access.path("resource").asText() + ":" + access.path("action").asText());
      }
    }
    return granted;
  }

  @Test
  void oneRobotWithTheRequestedPermissionsInEachProject() throws Exception {
    String team = harness.newTeam();
    String other = team + "-builds";
    harbor.createProject(other);
    harness.create(
        systemRobot(
            team,
            "scanner",
            new ProjectGrant(team, Preset.Push),
            new ProjectGrant(other, Preset.Pull)));

    HarborRobot ready = harness.awaitReady(team, "scanner");

    assertThat(ready.getStatus().getRobotName()).isEqualTo("robot$scanner");
    assertThat(permissionsInHarbor(ready.getStatus().getRobotId()))
        .isEqualTo(
            Map.of(
                team, Set.of("repository:pull", "repository:push"),
                other, Set.of("repository:pull")));
    assertThat(harness.dockerConfigLogsIn(harness.secret(team, "scanner"))).isTrue();
  }

  @Test
  void aClusterConnectionMustAllowSystemLevelForEveryProject() {
    String team = harness.newTenant(Map.of());
    String other = team + "-builds";
    harbor.createProject(other);
    AccessRule projectLevelOnly = rule(List.of(team), team, other);
    harness.clusterConnection("sys-" + team, c -> c.getSpec().setAccess(List.of(projectLevelOnly)));
    HarborRobot robot =
        systemRobot(
            team,
            "crawler",
            new ProjectGrant(team, Preset.Pull),
            new ProjectGrant(other, Preset.Pull));
    robot
        .getSpec()
        .setConnectionRef(new ConnectionRef(ConnectionKind.ClusterHarborConnection, "sys-" + team));

    harness.create(robot);

    HarborRobot denied = harness.awaitReason(team, "crawler", Reasons.NOT_ALLOWED);
    assertThat(OperatorHarness.ready(denied).orElseThrow().getMessage())
        .contains("project robots only");
    assertThat(harbor.robots()).noneMatch(r -> r.fullName().endsWith("$crawler"));

    harness.editClusterConnection(
        "sys-" + team,
        c -> {
          AccessRule withSystem = rule(List.of(team), team, other);
          withSystem.setAllowSystemLevel(true);
          c.getSpec().setAccess(List.of(withSystem));
        });
    harness.awaitReady(team, "crawler");
  }

  @Test
  void aSystemRobotReachingBeyondTheGrantsIsNeverAdopted() throws Exception {
    String team = harness.newTeam();
    long platform = platformRobot("mirror-" + team);
    Map<String, Set<String>> before = permissionsInHarbor(platform);
    HarborRobot robot = systemRobot(team, "mirror-" + team, new ProjectGrant(team, Preset.Pull));
    robot.getSpec().setAdoptExisting(true);

    harness.create(robot);

    harness.awaitReason(team, "mirror-" + team, Reasons.ROBOT_CONFLICT);
    assertThat(permissionsInHarbor(platform))
        .as("the platform's robot is untouched")
        .isEqualTo(before);
    assertThat(harness.secret(team, "mirror-" + team)).isNull();
  }
}
