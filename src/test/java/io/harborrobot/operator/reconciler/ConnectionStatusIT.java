package io.harborrobot.operator.reconciler;

import static io.harborrobot.operator.OperatorHarness.pullRobot;
import static io.harborrobot.operator.OperatorHarness.rule;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.harborrobot.operator.OperatorHarness;
import io.harborrobot.operator.api.v1alpha1.Condition;
import io.harborrobot.operator.api.v1alpha1.HarborConnection;
import io.harborrobot.operator.api.v1alpha1.HarborConnectionStatus;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.sandbox.HarborEmulator;
import io.harborrobot.operator.sandbox.Sandbox;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The connection controller: each connection's own status, and robots that wait on it. */
class ConnectionStatusIT {

  private OperatorHarness harness;
  private HarborEmulator harbor;

  @BeforeEach
  void start() {
    // Resyncs ten minutes apart: robots that recover do so on the connection's status event.
    harness = OperatorHarness.startEventDriven();
    harbor = harness.harbor();
  }

  @AfterEach
  void stop() {
    harness.close();
  }

  private HarborConnectionStatus awaitConnection(String namespace, String reason) {
    return await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                harness
                    .client()
                    .resources(HarborConnection.class)
                    .inNamespace(namespace)
                    .withName("harbor")
                    .get()
                    .getStatus(),
            s -> ready(s).map(c -> reason.equals(c.getReason())).orElse(false));
  }

  private static Optional<Condition> ready(HarborConnectionStatus status) {
    return status == null
        ? Optional.empty()
        : Conditions.find(status.getConditions(), Conditions.READY);
  }

  @Test
  void aConnectionReportsVersionRegistryAndTls() {
    String team = harness.newTeam();

    HarborConnectionStatus status = awaitConnection(team, "Connected");

    assertThat(status.getHarborVersion()).isEqualTo(harbor.harborVersion());
    assertThat(status.getRegistryHost()).isEqualTo(harbor.registryHost());
    assertThat(status.getTls()).isEqualTo("the system trust store");
    assertThat(Conditions.find(status.getConditions(), ConnectionChecks.TLS_VERIFIED))
        .get()
        .extracting(Condition::getStatus)
        .isEqualTo("True");
  }

  @Test
  void refusedCredentialsAreReportedOnceByTheConnectionAndRobotsWaitForItsRepair() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "patient"));
    harness.awaitReady(team, "patient");
    try {
      harbor.setAdminCredentials(Sandbox.ADMIN_USER, "Rotated-By-The-Harbor-Admin-1");

      HarborConnectionStatus broken = awaitConnection(team, Reasons.UNAUTHORIZED);
      assertThat(ready(broken).orElseThrow().getStatus()).isEqualTo("False");
      HarborRobot waiting =
          harness.awaitReady(
              team,
              "patient",
              c ->
                  Reasons.UNAUTHORIZED.equals(c.getReason())
                      && c.getMessage().contains("is not ready"));
      assertThat(waiting.getStatus().getConnection()).isEqualTo("HarborConnection/harbor");
      int robotRequests = robotRequests();
      await().pollDelay(Duration.ofSeconds(5)).until(() -> true);
      assertThat(robotRequests())
          .as("robots of a broken connection do not try Harbor one by one")
          .isEqualTo(robotRequests);

      harness
          .client()
          .secrets()
          .inNamespace(team)
          .withName("harbor-admin")
          .edit(
              s -> {
                s.setData(null);
                s.setStringData(
                    Map.of(
                        "username",
                        Sandbox.ADMIN_USER,
                        "password",
                        "Rotated-By-The-Harbor-Admin-1"));
                return s;
              });

      awaitConnection(team, "Connected");
      harness.awaitReady(team, "patient");
      assertThat(harness.dockerConfigLogsIn(harness.secret(team, "patient"))).isTrue();
    } finally {
      harbor.setAdminCredentials(Sandbox.ADMIN_USER, Sandbox.ADMIN_PASSWORD);
    }
  }

  @Test
  void skippingTlsVerificationIsFlaggedWithAConditionAndAWarning() {
    String team = harness.newTeam(spec -> spec.setInsecureSkipTLSVerify(true));

    HarborConnectionStatus status = awaitConnection(team, "Connected");

    assertThat(Conditions.find(status.getConditions(), ConnectionChecks.TLS_VERIFIED))
        .get()
        .satisfies(
            c -> {
              assertThat(c.getStatus()).isEqualTo("False");
              assertThat(c.getReason()).isEqualTo("InsecureSkipTLSVerify");
            });
    assertThat(status.getTls()).startsWith("insecure");
    harness.awaitEvent(team, "harbor", "InsecureSkipTLSVerify");
    assertThat(harness.events(team, "harbor"))
        .filteredOn(e -> "InsecureSkipTLSVerify".equals(e.getReason()))
        .extracting(Event::getType)
        .containsOnly("Warning");
  }

  @Test
  void aClusterConnectionHasAStatusToo() {
    String team = harness.newTenant(Map.of());
    harness.clusterConnection(
        "shared", c -> c.getSpec().setAccess(List.of(rule(List.of(team), team))));

    HarborConnectionStatus status =
        harness.awaitClusterConnectionStatus(
            "shared", s -> ready(s).map(c -> "Connected".equals(c.getReason())).orElse(false));

    assertThat(status.getHarborVersion()).isEqualTo(harbor.harborVersion());
  }

  private int robotRequests() {
    return (int)
        harbor.requestLog().stream()
            .filter(r -> r.contains("/api/v2.0/robots") || r.contains("/api/v2.0/projects"))
            .count();
  }

  @Test
  void aRegistryHostSetOnTheConnectionGoesIntoStatusAndSecrets() {
    String team = harness.newTeam(spec -> spec.setRegistryHost("pull.example.com:5443"));
    harness.create(pullRobot(team, "behind-a-proxy"));

    harness.awaitReady(team, "behind-a-proxy");

    assertThat(OperatorHarness.decode(harness.secret(team, "behind-a-proxy"), "registry"))
        .isEqualTo("pull.example.com:5443");
    assertThat(OperatorHarness.decode(harness.secret(team, "behind-a-proxy"), ".dockerconfigjson"))
        .contains("\"pull.example.com:5443\"");
    assertThat(awaitConnection(team, "Connected").getRegistryHost())
        .isEqualTo("pull.example.com:5443");
  }
}
