package io.harborrobot.operator.reconciler;

import static io.harborrobot.operator.OperatorHarness.decode;
import static io.harborrobot.operator.OperatorHarness.pullRobot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Secret;
import io.harborrobot.operator.OperatorHarness;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.SecretType;
import io.harborrobot.operator.sandbox.HarborEmulator;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The shapes a robot's Secret takes (DESIGN.md §3.1), end to end. */
class SecretTypesIT {

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

  private static Secret awaitSecret(String team, String name, String type) {
    return await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> harness.secret(team, name), s -> s != null && type.equals(s.getType()));
  }

  @Test
  void anEnvSecretHasExactlyTheDocumentedKeysAndValues() {
    String team = harness.newTeam();
    HarborRobot robot = pullRobot(team, "ci-runner");
    robot.getSpec().getSecret().setType(SecretType.Env);
    harness.create(robot);
    HarborRobot ready = harness.awaitReady(team, "ci-runner");

    Secret secret = awaitSecret(team, "ci-runner", "Opaque");

    assertThat(secret.getData().keySet())
        .containsExactlyInAnyOrder(
            "HARBOR_URL",
            "HARBOR_HOST",
            "HARBOR_OCI",
            "HARBOR_PROJECT",
            "HARBOR_USERNAME",
            "HARBOR_PASSWORD");
    assertThat(decode(secret, "HARBOR_URL")).isEqualTo("https://harbor.example.com");
    assertThat(decode(secret, "HARBOR_HOST")).isEqualTo(harbor.registryHost());
    assertThat(decode(secret, "HARBOR_OCI")).isEqualTo("oci://" + harbor.registryHost());
    assertThat(decode(secret, "HARBOR_PROJECT")).isEqualTo(team);
    assertThat(decode(secret, "HARBOR_USERNAME")).isEqualTo(ready.getStatus().getRobotName());
    assertThat(
            harbor.credentialsWork(
                decode(secret, "HARBOR_USERNAME"), decode(secret, "HARBOR_PASSWORD")))
        .isTrue();
  }

  @Test
  void switchingTheTypeReplacesTheSecretAndKeepsTheCredential() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "shifter"));
    long id = harness.awaitReady(team, "shifter").getStatus().getRobotId();
    String password = decode(harness.secret(team, "shifter"), "password");

    harness.edit(team, "shifter", r -> r.getSpec().getSecret().setType(SecretType.BasicAuth));
    Secret basic = awaitSecret(team, "shifter", "kubernetes.io/basic-auth");
    assertThat(basic.getData().keySet())
        .containsExactlyInAnyOrder("username", "password", "registry");
    assertThat(decode(basic, "password")).isEqualTo(password);

    harness.edit(team, "shifter", r -> r.getSpec().getSecret().setType(SecretType.Env));
    Secret env = awaitSecret(team, "shifter", "Opaque");
    assertThat(decode(env, "HARBOR_PASSWORD")).isEqualTo(password);

    harness.edit(
        team, "shifter", r -> r.getSpec().getSecret().setType(SecretType.DockerConfigJson));
    Secret docker = awaitSecret(team, "shifter", "kubernetes.io/dockerconfigjson");
    assertThat(harness.dockerConfigLogsIn(docker)).isTrue();
    assertThat(decode(docker, "password")).isEqualTo(password);
    assertThat(harness.get(team, "shifter").getStatus().getRobotId()).isEqualTo(id);
    assertThat(harbor.robots()).filteredOn(r -> team.equals(r.project())).hasSize(1);
  }

  @Test
  void theSecretsLabelsAndAnnotationsFollowTheSpec() {
    String team = harness.newTeam();
    HarborRobot robot = pullRobot(team, "labelled");
    robot.getSpec().getSecret().setLabels(Map.of("app", "web"));
    robot.getSpec().getSecret().setAnnotations(Map.of("owner", "team-web"));
    harness.create(robot);
    harness.awaitReady(team, "labelled");

    harness.edit(
        team,
        "labelled",
        r -> {
          r.getSpec().getSecret().setLabels(Map.of("app", "api"));
          r.getSpec().getSecret().setAnnotations(Map.of());
        });

    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              Secret secret = harness.secret(team, "labelled");
              assertThat(secret.getMetadata().getLabels())
                  .containsEntry("app", "api")
                  .containsEntry("app.kubernetes.io/managed-by", "harbor-robot-operator");
              assertThat(secret.getMetadata().getAnnotations()).doesNotContainKey("owner");
            });
  }
}
