package io.harborrobot.operator.ops;

import static io.harborrobot.operator.OperatorHarness.pullRobot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.harborrobot.operator.OperatorHarness;
import io.harborrobot.operator.OperatorHarness.Instance;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A fleet split across two operator deployments by a label selector on HarborRobots: each manages
 * its own share, and a HarborRobot that no selector matches is left alone by both. (Equality
 * selectors: the in-memory API server does not evaluate set-based ones such as {@code in (a, b)},
 * which a real API server does.)
 */
class ShardingIT {

  private static OperatorHarness harness;

  @BeforeAll
  static void start() {
    harness = OperatorHarness.start();
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  private static HarborRobot labelled(String team, String name, String shard) {
    HarborRobot robot = pullRobot(team, name);
    if (shard != null) {
      robot.getMetadata().setLabels(Map.of("harborrobot.io/shard", shard));
    }
    return robot;
  }

  @Test
  void eachShardManagesOnlyTheRobotsItsSelectorMatches() throws Exception {
    String team = harness.newTeam();
    // The harness's unsharded operator makes way for the two shards.
    harness.stopOperator();
    try (Instance east =
            harness.startInstance(c -> c.withRobotSelector("harborrobot.io/shard=east"), () -> {});
        Instance west =
            harness.startInstance(
                c -> c.withRobotSelector("harborrobot.io/shard=west"), () -> {})) {
      harness.create(labelled(team, "e1", "east"));
      harness.create(labelled(team, "e2", "east"));
      harness.create(labelled(team, "w1", "west"));
      harness.create(labelled(team, "nobody", null));

      harness.awaitReady(team, "e1");
      harness.awaitReady(team, "e2");
      harness.awaitReady(team, "w1");

      assertThat(robotsGauge(east)).as("east counts its two robots").isEqualTo(2);
      assertThat(robotsGauge(west)).as("west counts its one robot").isEqualTo(1);
      assertThat(east.robotReconciles()).isPositive();
      assertThat(west.robotReconciles()).isPositive();
      HarborRobot untouched = harness.get(team, "nobody");
      assertThat(untouched.getStatus()).as("no shard manages an unlabelled robot").isNull();
      assertThat(untouched.getMetadata().getFinalizers()).isEmpty();
      assertThat(harness.harbor().findRobot(team, "nobody")).isEmpty();

      // a new label hands a robot over: the old shard forgets it, the new one takes it on
      long id = harness.get(team, "e2").getStatus().getRobotId();
      double westBefore = west.robotReconciles();
      harness.edit(
          team, "e2", r -> r.getMetadata().getLabels().put("harborrobot.io/shard", "west"));
      await().atMost(Duration.ofSeconds(30)).until(() -> robotsGauge(west) == 2);
      await().atMost(Duration.ofSeconds(30)).until(() -> robotsGauge(east) == 1);
      assertThat(west.robotReconciles()).isGreaterThan(westBefore);
      assertThat(harness.awaitReady(team, "e2").getStatus().getRobotId())
          .as("the same robot in Harbor, not a new one")
          .isEqualTo(id);
      assertThat(harness.harbor().robots().stream().filter(r -> team.equals(r.project())))
          .hasSize(3);
    } finally {
      harness.startOperator();
    }
  }

  private static double robotsGauge(Instance shard) {
    return PrometheusText.parse(shard.meters().scrape()).sum("harborrobot_robots");
  }
}
