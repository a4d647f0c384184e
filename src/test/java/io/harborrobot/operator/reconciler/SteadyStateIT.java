package io.harborrobot.operator.reconciler;

import static io.harborrobot.operator.OperatorHarness.pullRobot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.harborrobot.operator.OperatorHarness;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * DESIGN.md §4.9, a cheap steady state: the resyncs of a project's unchanged robots read them from
 * one listing of the project, not with a GET each, and still revert what was changed in Harbor by
 * hand at the next resync.
 */
class SteadyStateIT {

  private static final int ROBOTS = 40;
  private static final String LIST = "GET /api/v2.0/robots";
  private static final String GET_BY_ID = "GET /api/v2.0/robots/{id}";
  private static final String PUT = "PUT /api/v2.0/robots/{id}";

  private static OperatorHarness harness;

  @BeforeAll
  static void start() {
    harness = OperatorHarness.start();
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  private static double robotReconciles() {
    return OperatorHarness.robotReconciles(harness.meters());
  }

  private static Map<String, Integer> since(Map<String, Integer> before) {
    Map<String, Integer> delta = new HashMap<>();
    harness
        .harbor()
        .requestCountsByRoute()
        .forEach((route, count) -> delta.put(route, count - before.getOrDefault(route, 0)));
    return delta;
  }

  @Test
  void resyncsOfUnchangedRobotsCostAShareOfOneListingAndDriftIsStillReverted() {
    // Not limited by the connection's default 10 requests per second: 40 creations at once
    // would take half a minute.
    String team =
        harness.newTeam(
            spec -> {
              spec.setRequestsPerSecond(1000);
              spec.setMaxConcurrentRequests(8);
            });
    IntStream.range(0, ROBOTS).forEach(i -> harness.create(pullRobot(team, "app-" + i)));
    IntStream.range(0, ROBOTS).forEach(i -> harness.awaitReady(team, "app-" + i));

    // Let the pass after creation settle, then watch at least three resyncs of every robot.
    await().atMost(Duration.ofSeconds(30)).until(() -> since(Map.of()).getOrDefault(LIST, 0) > 0);
    Map<String, Integer> before = harness.harbor().requestCountsByRoute();
    double reconcilesBefore = robotReconciles();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> robotReconciles() - reconcilesBefore >= 3 * ROBOTS);
    double resyncs = (robotReconciles() - reconcilesBefore) / ROBOTS;
    Map<String, Integer> cost = since(before);

    int robotReads = cost.getOrDefault(LIST, 0) + cost.getOrDefault(GET_BY_ID, 0);
    System.out.printf(
        "steady state: %.1f resyncs of %d robots: %s (%.3f robot reads per robot per resync)%n",
        resyncs, ROBOTS, cost, robotReads / (resyncs * ROBOTS));
    assertThat(cost.getOrDefault(GET_BY_ID, 0)).as("GETs of single robots").isLessThan(ROBOTS / 4);
    assertThat(robotReads / (resyncs * ROBOTS))
        .as("robot reads per robot per resync (a GET each would be 1)")
        .isLessThan(0.25);
    assertThat(cost.getOrDefault(PUT, 0)).as("nothing to update").isZero();

    // Drift made by hand is still seen and reverted.
    long id = harness.get(team, "app-7").getStatus().getRobotId();
    harness.harbor().setPermissionsByHand(id, Set.of("repository:pull", "repository:push"));
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(harness.harbor().robot(id).orElseThrow().permissions())
                    .containsExactly("repository:pull"));
  }
}
