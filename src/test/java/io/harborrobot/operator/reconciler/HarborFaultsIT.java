package io.harborrobot.operator.reconciler;

import static io.harborrobot.operator.OperatorHarness.pullRobot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.harborrobot.operator.OperatorHarness;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.Preset;
import io.harborrobot.operator.harbor.ClientSettings;
import io.harborrobot.operator.harbor.OkHttpHarborClientFactory;
import io.harborrobot.operator.sandbox.EmulatedRobot;
import io.harborrobot.operator.sandbox.HarborEmulator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Many robots converge while Harbor misbehaves the way real ones do: 30 % of requests answered 503,
 * some 429 with Retry-After, responses lost after Harbor committed the change, and latency spikes
 * of 2 s against a 1 s read timeout. At the end: every robot Ready, exactly one Harbor robot per
 * HarborRobot, every credential logs in, and Harbor saw a bounded number of requests.
 */
class HarborFaultsIT {

  static final int TEAMS = 3;
  static final int ROBOTS_PER_TEAM = 8;

  /**
   * Requests Harbor may see per robot until all converge. Without faults a new robot costs 7
   * (project lookup, lookup by name, create, set secret, read back, PUT for the description, and a
   * share of systeminfo); each fault costs a retry, a lost create a lookup. 40 leaves room for the
   * faults and for the resyncs that run while the others converge.
   */
  static final int REQUEST_BOUND_PER_ROBOT = 40;

  private static OperatorHarness harness;
  private static HarborEmulator harbor;
  private static final SimpleMeterRegistry METRICS = new SimpleMeterRegistry();

  @BeforeAll
  static void start() {
    ClientSettings settings =
        ClientSettings.defaults()
            .withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(5))
            .withRetry(OperatorHarness.FAST_RETRY);
    harness = OperatorHarness.start(new OkHttpHarborClientFactory(settings, METRICS));
    harbor = harness.harbor();
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @Test
  void everyRobotConvergesWithoutDuplicatesOrLostSecretsWhileHarborMisbehaves() {
    List<String> teams = new ArrayList<>();
    for (int t = 0; t < TEAMS; t++) {
      teams.add(harness.newTeam(spec -> spec.setRequestsPerSecond(200)));
    }
    harbor.setSeed(20261202L);
    harbor.setErrorRate(0.3, 503);
    harbor.failNext("GET", "/api/v2.0/projects/.*", 429, 2, Duration.ofSeconds(1));
    harbor.setLostResponseRate(0.1);
    harbor.setLatencySpikes(0.05, Duration.ofSeconds(2));
    int requestsBefore = harbor.requestCount();

    for (String team : teams) {
      for (int i = 0; i < ROBOTS_PER_TEAM; i++) {
        HarborRobot robot = pullRobot(team, "robot-" + i);
        robot.getSpec().setPreset(i % 2 == 0 ? Preset.Pull : Preset.CI);
        harness.create(robot);
      }
    }
    int total = TEAMS * ROBOTS_PER_TEAM;
    await()
        .atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> readyCount(teams) == total);
    int requests = harbor.requestCount() - requestsBefore;

    harbor.setErrorRate(0, 503);
    harbor.setLostResponseRate(0);
    harbor.setLatencySpikes(0, Duration.ZERO);

    Map<String, List<EmulatedRobot>> byName =
        harbor.robots().stream()
            .filter(r -> teams.contains(r.project()))
            .collect(Collectors.groupingBy(EmulatedRobot::storedName));
    assertThat(byName).hasSize(total);
    assertThat(byName.values()).allSatisfy(robots -> assertThat(robots).hasSize(1));
    for (String team : teams) {
      for (int i = 0; i < ROBOTS_PER_TEAM; i++) {
        String name = "robot-" + i;
        assertThat(harness.dockerConfigLogsIn(harness.secret(team, name)))
            .as("%s/%s logs in", team, name)
            .isTrue();
      }
    }
    assertThat(requests)
        .as("Harbor requests for %d robots under faults", total)
        .isLessThanOrEqualTo(total * REQUEST_BOUND_PER_ROBOT);
    assertThat(METRICS.find("harbor.client.retries").counters())
        .as("the faults were met, and retried")
        .isNotEmpty()
        .allSatisfy(c -> assertThat(c.count()).isPositive());
  }

  private static long readyCount(List<String> teams) {
    return teams.stream()
        .flatMap(
            team ->
                harness
                    .client()
                    .resources(HarborRobot.class)
                    .inNamespace(team)
                    .list()
                    .getItems()
                    .stream())
        .filter(r -> OperatorHarness.ready(r).map(c -> "True".equals(c.getStatus())).orElse(false))
        .count();
  }
}
