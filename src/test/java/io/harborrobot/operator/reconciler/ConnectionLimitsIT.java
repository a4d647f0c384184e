package io.harborrobot.operator.reconciler;

import static io.harborrobot.operator.OperatorHarness.pullRobot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.harborrobot.operator.OperatorHarness;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.sandbox.HarborEmulator;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A connection's requestsPerSecond and maxConcurrentRequests hold for all its robots together. */
class ConnectionLimitsIT {

  static final int ROBOTS = 20;
  static final int REQUESTS_PER_SECOND = 5;
  static final int MAX_CONCURRENT = 2;
  static final int MINIMAL_REQUESTS_PER_NEW_ROBOT = 3;

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

  @Test
  void manyRobotsOnOneConnectionNeverExceedItsLimitsAtHarbor() {
    String team =
        harness.newTeam(
            spec -> {
              spec.setRequestsPerSecond(REQUESTS_PER_SECOND);
              spec.setMaxConcurrentRequests(MAX_CONCURRENT);
            });
    // Measure from a clean slate: only this test's requests count.
    harbor.reset();
    harbor.createProject(team);
    harbor.setLatency(Duration.ofMillis(100));

    for (int i = 0; i < ROBOTS; i++) {
      harness.create(pullRobot(team, "limited-" + i));
    }
    await()
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () ->
                harness
                        .client()
                        .resources(HarborRobot.class)
                        .inNamespace(team)
                        .list()
                        .getItems()
                        .stream()
                        .filter(
                            r ->
                                OperatorHarness.ready(r)
                                    .map(c -> "True".equals(c.getStatus()))
                                    .orElse(false))
                        .count()
                    == ROBOTS);

    // A new robot costs at least MINIMAL_REQUESTS_PER_NEW_ROBOT requests (POST, PATCH, the registry
    // check), so the run sent at least 12 seconds' worth of requests at the limit: the limiter, not
    // the demand, set the pace.
    assertThat(harbor.requestCount())
        .as("enough requests to have pushed against the limit")
        .isGreaterThanOrEqualTo(ROBOTS * MINIMAL_REQUESTS_PER_NEW_ROBOT);
    int busiestSecond = harbor.maxRequestsInAnyWindow(Duration.ofSeconds(1));
    assertThat(busiestSecond)
        .as("some second was filled up to the limit")
        .isGreaterThanOrEqualTo(REQUESTS_PER_SECOND - 1);
    assertThat(busiestSecond)
        .as("requests in any one second, measured at Harbor")
        .isLessThanOrEqualTo(REQUESTS_PER_SECOND);
    assertThat(harbor.maxConcurrentRequests())
        .as("requests in flight at once, measured at Harbor")
        .isLessThanOrEqualTo(MAX_CONCURRENT);
  }
}
