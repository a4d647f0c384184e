package io.harborrobot.operator.reconciler;

import static io.harborrobot.operator.OperatorHarness.decode;
import static io.harborrobot.operator.OperatorHarness.pullRobot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.harborrobot.operator.OperatorHarness;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What wakes the reconciler, with resyncs and credential checks ten minutes apart: each change
 * below is seen through a watch event, or the test times out.
 */
class WatchEventsIT {

  private static OperatorHarness harness;

  @BeforeAll
  static void start() {
    harness = OperatorHarness.startEventDriven();
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @Test
  void aNewValueOfTheRotateAnnotationRotatesAtOnce() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "on-call"));
    harness.awaitReady(team, "on-call");
    String old = decode(harness.secret(team, "on-call"), "password");

    harness.edit(
        team,
        "on-call",
        r -> r.getMetadata().getAnnotations().put(RotationPlan.ROTATE_ANNOTATION, "incident-7"));

    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> !decode(harness.secret(team, "on-call"), "password").equals(old));
    assertThat(harness.dockerConfigLogsIn(harness.secret(team, "on-call"))).isTrue();
  }

  @Test
  void aDeletedSecretIsRecreatedAtOnce() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "keeper"));
    harness.awaitReady(team, "keeper");

    harness.client().secrets().inNamespace(team).withName("keeper").delete();

    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> harness.secret(team, "keeper"), s -> s != null && harness.dockerConfigLogsIn(s));
  }

  @Test
  void aServiceAccountCreatedLaterIsLinkedAtOnce() {
    String team = harness.newTeam();
    HarborRobot robot = pullRobot(team, "puller");
    robot.getSpec().setImagePullServiceAccounts(List.of("late"));
    harness.create(robot);
    harness.awaitReady(team, "puller");

    harness
        .client()
        .serviceAccounts()
        .inNamespace(team)
        .resource(
            new ServiceAccountBuilder().withNewMetadata().withName("late").endMetadata().build())
        .create();

    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                harness
                    .client()
                    .serviceAccounts()
                    .inNamespace(team)
                    .withName("late")
                    .get()
                    .getImagePullSecrets(),
            refs -> refs != null && refs.stream().anyMatch(r -> "puller".equals(r.getName())));
  }
}
