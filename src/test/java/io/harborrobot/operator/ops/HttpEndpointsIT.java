package io.harborrobot.operator.ops;

import static io.harborrobot.operator.OperatorHarness.pullRobot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.harborrobot.operator.OperatorHarness;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.leaks.LeakWitness;
import io.harborrobot.operator.reconciler.RotationPlan;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The operator's HTTP port as Prometheus and the kubelet see it: every series that
 * docs/operations.md documents is scraped from /metrics in the Prometheus text format after the
 * operator did the corresponding work, and the probes follow the operator's state.
 */
class HttpEndpointsIT {

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final Duration WAIT = Duration.ofSeconds(30);

  private static OperatorHarness harness;
  private static HttpEndpoints endpoints;

  @BeforeAll
  static void start() throws Exception {
    harness = OperatorHarness.start();
    endpoints = HttpEndpoints.start(0, harness.meters(), () -> harness.runtime().health());
  }

  @AfterAll
  static void stop() {
    endpoints.close();
    harness.close();
  }

  private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoints.port() + path));
  }

  private static PrometheusText scrape() throws Exception {
    HttpResponse<String> response = send(request("/metrics"));
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("text/plain; version=0.0.4");
    // Scrapes are read by more people than the Secrets: checked for secrets like the logs.
    LeakWitness.record("/metrics", response.body());
    return PrometheusText.parse(response.body());
  }

  private static PrometheusText awaitScrape(java.util.function.Predicate<PrometheusText> shows) {
    return await().atMost(WAIT).ignoreExceptions().until(HttpEndpointsIT::scrape, shows);
  }

  @Test
  void everyDocumentedSeriesIsScrapedAfterTheWorkItCounts() throws Exception {
    String team = harness.newTeam();
    HarborRobot robot = pullRobot(team, "scraped");
    robot.getSpec().setDurationDays(30);
    harness.create(robot);
    HarborRobot ready = harness.awaitReady(team, "scraped");
    long expiry = Instant.parse(ready.getStatus().getExpiresAt()).getEpochSecond();
    String robotLabels = "name=\"scraped\"";
    String namespaceLabel = "namespace=\"" + team + "\"";
    // a rotation on request, then a repair of a deleted Secret
    harness.edit(
        team,
        "scraped",
        r -> r.getMetadata().getAnnotations().put(RotationPlan.ROTATE_ANNOTATION, "scrape-1"));
    awaitScrape(m -> m.has("harborrobot_rotations_total", "trigger=\"requested\""));
    harness.client().secrets().inNamespace(team).withName("scraped").delete();
    awaitScrape(m -> m.has("harborrobot_repairs_total", "kind=\"secret_missing\""));
    HarborRobot repaired = harness.awaitReady(team, "scraped");
    long renewal = Instant.parse(repaired.getStatus().getNextRotationTime()).getEpochSecond();
    PrometheusText metrics = awaitScrape(m -> m.sum("harborrobot_robots", "ready=\"True\"") >= 1);

    assertThat(
            metrics.find("harborrobot_robot_expiry_timestamp_seconds", robotLabels, namespaceLabel))
        .as("the robot's expiry, for alerts on robots about to expire")
        .hasValue((double) expiry);
    assertThat(
            metrics.find(
                "harborrobot_robot_next_rotation_timestamp_seconds", robotLabels, namespaceLabel))
        .as("its planned renewal, for alerts on renewals that are overdue")
        .hasValue((double) renewal);
    assertThat(metrics.sum("harborrobot_robots", "ready=\"True\""))
        .as("robots by Ready state")
        .isGreaterThanOrEqualTo(1);
    assertThat(metrics.find("harborrobot_credential_checks_total", "result=\"accepted\""))
        .hasValueSatisfying(v -> assertThat(v).isPositive());
    assertThat(metrics.find("harborrobot_leader")).hasValue(1.0);
    assertThat(
            metrics.sum(
                "harbor_client_requests_seconds_count", "method=\"POST\"", "status=\"201\""))
        .as("Harbor requests by method, route and status")
        .isPositive();
    assertThat(
            metrics.has(
                "harbor_client_requests_seconds_bucket", "route=\"/api/v2.0/robots\"", "le="))
        .as("Harbor request latency histogram")
        .isTrue();
    assertThat(metrics.sum("operator_sdk_reconciliations_started_total", "kind=\"HarborRobot\""))
        .as("JOSDK's reconcile metrics")
        .isPositive();
    assertThat(metrics.has("operator_sdk_controllers_execution_reconcile_seconds_count")).isTrue();
    assertThat(metrics.samples().keySet())
        .as("no JOSDK series per resource: the only per-robot series is the expiry")
        .noneMatch(series -> series.startsWith("operator_sdk") && series.contains("scraped"));

    harness.client().resource(harness.get(team, "scraped")).delete();
    awaitScrape(
        m ->
            !m.has("harborrobot_robot_expiry_timestamp_seconds", robotLabels, namespaceLabel)
                && !m.has(
                    "harborrobot_robot_next_rotation_timestamp_seconds",
                    robotLabels,
                    namespaceLabel));
  }

  @Test
  void aRobotThatCannotBeSyncedIsCountedUnderItsReason() throws Exception {
    String team = harness.newTeam();
    HarborRobot robot = pullRobot(team, "lost");
    robot.getSpec().setProject("no-such-project");
    harness.create(robot);
    harness.awaitReason(team, "lost", "ProjectNotFound");

    PrometheusText metrics =
        awaitScrape(
            m -> m.sum("harborrobot_robots", "ready=\"False\"", "reason=\"ProjectNotFound\"") >= 1);

    assertThat(metrics.has("harborrobot_robot_expiry_timestamp_seconds", "name=\"lost\""))
        .as("no expiry for a robot that does not exist")
        .isFalse();
    harness.client().resource(harness.get(team, "lost")).delete();
    awaitScrape(
        m -> m.sum("harborrobot_robots", "ready=\"False\"", "reason=\"ProjectNotFound\"") == 0);
  }

  @Test
  void probesFollowTheOperatorAndOnlyTheThreePathsAnswer() throws Exception {
    assertThat(send(request("/healthz")).statusCode()).isEqualTo(200);
    assertThat(send(request("/readyz")).statusCode()).isEqualTo(200);
    assertThat(send(request("/metricsx")).statusCode()).isEqualTo(404);
    assertThat(send(request("/")).statusCode()).isEqualTo(404);
    assertThat(send(request("/metrics").POST(HttpRequest.BodyPublishers.noBody())).statusCode())
        .isEqualTo(405);
    HttpResponse<String> openMetrics =
        send(request("/metrics").header("Accept", "application/openmetrics-text; version=1.0.0"));
    assertThat(openMetrics.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("application/openmetrics-text");
    assertThat(openMetrics.body()).endsWith("# EOF\n");

    harness.stopOperator();
    try {
      HttpResponse<String> stopped = send(request("/readyz"));
      assertThat(stopped.statusCode()).isEqualTo(503);
      assertThat(stopped.body()).contains("stopping");
      assertThat(send(request("/healthz")).statusCode()).isEqualTo(503);
      assertThat(scrape().has("harborrobot_leader"))
          .as("a stopped operator leaves no gauge behind")
          .isFalse();
    } finally {
      harness.startOperator();
    }
    assertThat(send(request("/readyz")).statusCode()).isEqualTo(200);
    assertThat(scrape().find("harborrobot_leader")).hasValue(1.0);
  }
}
