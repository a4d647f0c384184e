package io.harborrobot.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.harborrobot.operator.TestRobots;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.HarborRobotStatus;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RobotClaimsTest {

  private static HarborRobot robot(String namespace, String created) {
    HarborRobot robot = TestRobots.pullRobot(namespace, "ci");
    robot.getSpec().setProject("shared");
    robot.getMetadata().setCreationTimestamp(created);
    return robot;
  }

  private static Optional<HarborRobot> olderThan(
      HarborRobot robot, List<HarborRobot> all, Map<String, String> urls) {
    return RobotClaims.rankedBefore(
        robot,
        key -> all.stream().filter(r -> RobotClaims.indexKeys(r).contains(key)).toList(),
        r -> Optional.ofNullable(urls.get(r.getMetadata().getNamespace())));
  }

  @Test
  void theOldestClaimantOfTheSameHarborRobotKeepsIt() {
    HarborRobot oldest = robot("a", "2026-01-01T00:00:00Z");
    HarborRobot middle = robot("b", "2026-02-01T00:00:00Z");
    HarborRobot newest = robot("c", "2026-03-01T00:00:00Z");
    List<HarborRobot> all = List.of(newest, middle, oldest);
    Map<String, String> urls =
        Map.of(
            "a", "https://harbor.example.com",
            "b", "https://HARBOR.example.com:443/",
            "c", "https://harbor.example.com/");

    assertThat(olderThan(oldest, all, urls)).isEmpty();
    assertThat(olderThan(middle, all, urls)).contains(oldest);
    assertThat(olderThan(newest, all, urls)).contains(oldest);
  }

  @Test
  void sameNameInAnotherHarborIsNoClaim() {
    HarborRobot here = robot("a", "2026-02-01T00:00:00Z");
    HarborRobot elsewhere = robot("b", "2026-01-01T00:00:00Z");
    List<HarborRobot> all = List.of(here, elsewhere);

    assertThat(
            olderThan(
                here,
                all,
                Map.of("a", "https://harbor.example.com", "b", "https://harbor.other.com")))
        .isEmpty();
    assertThat(olderThan(here, all, Map.of("a", "https://harbor.example.com")))
        .as("a claimant whose connection cannot be resolved claims nothing")
        .isEmpty();
  }

  @Test
  void aTieInCreationTimeGoesByNamespaceAndName() {
    HarborRobot first = robot("a", "2026-01-01T00:00:00Z");
    HarborRobot second = robot("b", "2026-01-01T00:00:00Z");
    List<HarborRobot> all = List.of(first, second);
    Map<String, String> urls = Map.of("a", "http://h", "b", "http://h:80");

    assertThat(olderThan(first, all, urls)).isEmpty();
    assertThat(olderThan(second, all, urls)).contains(first);
  }

  @Test
  void aResourceThatManagesTheRobotKeepsItAgainstAnOlderNewcomer() {
    HarborRobot owner = robot("b", "2026-02-01T00:00:00Z");
    HarborRobotStatus status = new HarborRobotStatus();
    status.setRobotId(7L);
    owner.setStatus(status);
    HarborRobot older = robot("a", "2026-01-01T00:00:00Z");
    List<HarborRobot> all = List.of(owner, older);
    Map<String, String> urls = Map.of("a", "https://h", "b", "https://h");

    assertThat(olderThan(owner, all, urls)).isEmpty();
    assertThat(olderThan(older, all, urls)).contains(owner);
    assertThat(olderThan(older, all, Map.of("a", "https://h")))
        .as("an owner whose connection cannot be resolved still holds its robot")
        .contains(owner);
  }

  @Test
  void aResourceThatCannotReachHarborSquatsNothing() {
    HarborRobot squatter = robot("a", "2026-01-01T00:00:00Z");
    HarborRobotStatus stuck = new HarborRobotStatus();
    stuck.setConditions(
        Conditions.set(
            List.of(),
            Conditions.READY,
            false,
            Reasons.NOT_ALLOWED,
            "no access rule",
            1L,
            java.time.Instant.parse("2026-01-01T00:00:00Z")));
    squatter.setStatus(stuck);
    HarborRobot rightful = robot("b", "2026-02-01T00:00:00Z");
    List<HarborRobot> all = List.of(squatter, rightful);
    Map<String, String> urls = Map.of("a", "https://h", "b", "https://h");

    assertThat(olderThan(rightful, all, urls)).isEmpty();
    // Once the rightful one manages the robot, the squatter stays out even if it is let in.
    HarborRobotStatus managing = new HarborRobotStatus();
    managing.setRobotId(7L);
    rightful.setStatus(managing);
    squatter.setStatus(null);
    assertThat(olderThan(squatter, all, urls)).contains(rightful);
  }
}
