package io.harborrobot.operator.reconciler;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * What the reconciler did to keep credentials working, as Micrometer counters. Tags are bounded
 * enums: no robot or namespace name, so the number of series does not grow with the fleet.
 */
public final class RobotMetrics {

  static final String REPAIRS = "harborrobot.repairs";
  static final String ROTATIONS = "harborrobot.rotations";
  static final String CREDENTIAL_CHECKS = "harborrobot.credential.checks";

  /** What was found broken and repaired (the {@code kind} tag). */
  public enum Repair {
    SECRET_MISSING("secret_missing"),
    SECRET_EDITED("secret_edited"),
    SECRET_REFRESHED_IN_HARBOR("secret_refreshed_in_harbor"),
    ROBOT_DELETED("robot_deleted"),
    ROBOT_DISABLED("robot_disabled"),
    ROBOT_EXPIRED("robot_expired"),
    NAME_PREFIX_CHANGED("name_prefix_changed");

    private final String tag;

    Repair(String tag) {
      this.tag = tag;
    }

    public String tag() {
      return tag;
    }
  }

  private final Meter.MeterProvider<Counter> repairs;
  private final Meter.MeterProvider<Counter> rotations;
  private final Meter.MeterProvider<Counter> checks;

  public RobotMetrics(MeterRegistry registry) {
    repairs =
        Counter.builder(REPAIRS)
            .description("Broken credentials found and repaired, by what was broken")
            .withRegistry(registry);
    rotations =
        Counter.builder(ROTATIONS)
            .description("Robot secrets replaced on purpose, by what triggered it")
            .withRegistry(registry);
    checks =
        Counter.builder(CREDENTIAL_CHECKS)
            .description("Registry logins made to check a Secret's credential, by result")
            .withRegistry(registry);
  }

  void repaired(Repair kind) {
    repairs.withTags("kind", kind.tag()).increment();
  }

  void rotated(RotationPlan.Trigger trigger) {
    rotations.withTags("trigger", trigger.label()).increment();
  }

  void checked(boolean accepted) {
    checks.withTags("result", accepted ? "accepted" : "refused").increment();
  }
}
