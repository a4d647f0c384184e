package io.harborrobot.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.reconciler.SyncBench.When;
import io.harborrobot.operator.sandbox.EmulatedRobot;
import io.harborrobot.operator.secret.CredentialSecrets;
import io.harborrobot.operator.secret.CredentialSecrets.Credential;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Crash safety of every step (DESIGN.md §4.2): each Harbor call and each Secret write of a create,
 * a rotation, a renewal and a repair is interrupted in turn, before it takes effect and right after
 * (a lost response, a crash), and an operator started afresh must end with exactly one robot whose
 * working secret is in the Secret, and nothing left half done.
 */
class InterruptedStepsIT {

  private static SyncBench bench;
  private static int robots;

  @BeforeAll
  static void start() {
    bench = new SyncBench();
  }

  @AfterAll
  static void stop() {
    bench.close();
  }

  /**
   * A scenario: given a fresh robot name, prepares a resource whose next pass does the work to be
   * interrupted, and returns it with the credential that must stop working once it is done (null
   * when there is none).
   */
  private record Scenario(
      String name,
      BiFunction<SyncBench, String, Prepared> prepare,
      int repairsItDoes,
      Predicate<EmulatedRobot> finished) {

    Scenario(String name, BiFunction<SyncBench, String, Prepared> prepare, int repairsItDoes) {
      this(name, prepare, repairsItDoes, robot -> true);
    }
  }

  private record Prepared(HarborRobot robot, Credential replaced) {}

  private static final List<Scenario> SCENARIOS =
      List.of(
          new Scenario("create", (b, name) -> new Prepared(b.robot(name, r -> {}), null), 0),
          new Scenario(
              "rotation asked for with the annotation",
              (b, name) -> {
                HarborRobot robot = b.robot(name, r -> {});
                b.converge(robot, 1);
                Credential before = b.credential(name);
                return new Prepared(b.requestRotation(robot, "now"), before);
              },
              0),
          new Scenario(
              "renewal before expiry",
              (b, name) -> {
                HarborRobot robot = b.robot(name, r -> r.getSpec().setDurationDays(10));
                b.converge(robot, 1);
                Credential before = b.credential(name);
                b.clock.advance(Duration.ofDays(8));
                return new Prepared(robot, before);
              },
              0,
              robot ->
                  Instant.ofEpochSecond(robot.expiresAt())
                      .isAfter(bench.clock.instant().plus(Duration.ofDays(9)))),
          new Scenario(
              "repair of a secret refreshed in Harbor",
              (b, name) -> {
                HarborRobot robot = b.robot(name, r -> {});
                b.converge(robot, 1);
                Credential before = b.credential(name);
                b.harbor.refreshSecretByHand(b.robotsNamed(name).get(0).id());
                b.clock.advance(SyncBench.CHECK_PERIOD);
                return new Prepared(robot, before);
              },
              1),
          new Scenario(
              "repair of a deleted Secret",
              (b, name) -> {
                HarborRobot robot = b.robot(name, r -> {});
                b.converge(robot, 1);
                Credential before = b.credential(name);
                b.kube().secrets().inNamespace(SyncBench.TEAM).withName(name).delete();
                return new Prepared(robot, before);
              },
              0));

  @TestFactory
  Stream<DynamicTest> everyStepInterruptedBeforeOrAfterItTakesEffectEndsWithOneWorkingRobot() {
    List<DynamicTest> tests = new ArrayList<>();
    for (Scenario scenario : SCENARIOS) {
      int steps = stepsOf(scenario);
      assertThat(steps).as("%s takes steps", scenario.name()).isGreaterThan(1);
      for (int step = 1; step <= steps; step++) {
        for (When when : When.values()) {
          int n = step;
          tests.add(
              DynamicTest.dynamicTest(
                  scenario.name() + ": step " + n + " interrupted " + when,
                  () -> interruptAndRecover(scenario, n, when)));
        }
      }
    }
    return tests.stream();
  }

  /** The steps one uninterrupted pass of the scenario takes. */
  private static int stepsOf(Scenario scenario) {
    Prepared prepared = scenario.prepare().apply(bench, nextName());
    bench.sync(prepared.robot());
    return bench.steps.size();
  }

  private static void interruptAndRecover(Scenario scenario, int step, When when) {
    String name = nextName();
    Prepared prepared = scenario.prepare().apply(bench, name);

    double refusedBefore = refusedSecretRepairs();
    bench.interrupt(step, when);
    assertThatThrownBy(() -> bench.sync(prepared.robot()))
        .as("step %d (%s) is interrupted", step, when)
        .isNotNull();
    String interrupted = bench.steps.get(bench.steps.size() - 1);

    bench.restart();
    RobotSync.Outcome outcome = bench.converge(prepared.robot(), 3);

    String at = " after interrupting " + interrupted + " " + when;
    assertThat(bench.robotsNamed(name)).as("exactly one robot" + at).hasSize(1);
    assertThat(bench.logsIn(name)).as("the Secret's credential logs in" + at).isTrue();
    if (prepared.replaced() != null) {
      assertThat(
              bench.harbor.credentialsWork(
                  prepared.replaced().username(), prepared.replaced().password()))
          .as("the replaced credential no longer works" + at)
          .isFalse();
    }
    assertThat(bench.annotations(name))
        .as("nothing left pending" + at)
        .doesNotContainKeys(CredentialSecrets.PENDING, CredentialSecrets.CREATE_TOKEN)
        .containsKey(CredentialSecrets.APPLIED);
    assertThat(outcome.robot().id()).isEqualTo(bench.robotsNamed(name).get(0).id());
    assertThat(bench.robotsNamed(name).get(0))
        .as("the scenario's work is done" + at)
        .matches(scenario.finished());
    // Recovery works from what was persisted: it never needs the registry to refuse the stored
    // credential first (which would mean a secret had been set in Harbor but not stored).
    assertThat(refusedSecretRepairs() - refusedBefore)
        .as("secrets replaced because the stored one was refused" + at)
        .isLessThanOrEqualTo(scenario.repairsItDoes());

    bench.sync(prepared.robot());
    assertThat(bench.steps)
        .as("a further pass changes nothing" + at)
        .noneMatch(s -> s.startsWith("harbor create") || s.startsWith("harbor set"))
        .noneMatch(s -> s.startsWith("harbor update") || s.startsWith("harbor delete"));
  }

  private static double refusedSecretRepairs() {
    return bench.count(
        RobotMetrics.REPAIRS, "kind", RobotMetrics.Repair.SECRET_REFRESHED_IN_HARBOR.tag());
  }

  private static String nextName() {
    return "robot-" + (++robots);
  }
}
