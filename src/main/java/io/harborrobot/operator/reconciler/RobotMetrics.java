package io.harborrobot.operator.reconciler;

import io.harborrobot.operator.api.v1alpha1.Condition;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.HarborRobotStatus;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The reconciler's metrics. Counters of what it did to keep credentials working, tagged with
 * bounded enums only; and gauges of the managed robots: how many are in each Ready state and
 * reason, and when each expires and is next renewed or rotated (the only series per robot, tagged
 * with its namespace and name, and removed when the HarborRobot goes).
 */
public final class RobotMetrics {

  static final String REPAIRS = "harborrobot.repairs";
  static final String ROTATIONS = "harborrobot.rotations";
  static final String CREDENTIAL_CHECKS = "harborrobot.credential.checks";
  static final String ROBOTS = "harborrobot.robots";
  static final String EXPIRY = "harborrobot.robot.expiry.timestamp";
  static final String NEXT_ROTATION = "harborrobot.robot.next.rotation.timestamp";

  /** Ready status and reason of one robot, the tags of {@link #ROBOTS}. */
  private record ReadyState(String ready, String reason) {}

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
  private final MeterRegistry registry;
  private final Map<ResourceID, ReadyState> states = new ConcurrentHashMap<>();
  private final Map<ReadyState, Gauge> stateGauges = new ConcurrentHashMap<>();
  private final TimestampGauges expiries;
  private final TimestampGauges nextRotations;

  public RobotMetrics(MeterRegistry registry) {
    this.registry = registry;
    expiries =
        new TimestampGauges(
            registry, EXPIRY, "When the HarborRobot's robot account expires in Harbor, Unix time");
    nextRotations =
        new TimestampGauges(
            registry,
            NEXT_ROTATION,
            "When the operator plans to renew or rotate the HarborRobot's secret, Unix time");
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

  /** Records the state a reconcile decided for {@code cr}, for the fleet gauges. */
  void observed(HarborRobot cr, HarborRobotStatus status) {
    ResourceID id = ResourceID.fromResource(cr);
    Optional<Condition> ready = Conditions.find(status.getConditions(), Conditions.READY);
    ReadyState state =
        new ReadyState(
            ready.map(Condition::getStatus).orElse("Unknown"),
            ready.map(Condition::getReason).orElse(""));
    states.put(id, state);
    stateGauges.computeIfAbsent(
        state,
        tags ->
            Gauge.builder(ROBOTS, states, all -> countIn(all, tags))
                .description("HarborRobots managed by this operator, by Ready status and reason")
                .tags("ready", tags.ready(), "reason", tags.reason())
                .register(registry));
    expiries.set(id, parse(status.getExpiresAt()));
    nextRotations.set(id, parse(status.getNextRotationTime()));
  }

  /** Drops what is known of a HarborRobot that is gone (or no longer this operator's). */
  public void forget(ResourceID id) {
    states.remove(id);
    expiries.drop(id);
    nextRotations.drop(id);
  }

  /** Removes the gauges, for an operator that stops while its registry lives on. */
  public void close() {
    stateGauges.values().forEach(registry::remove);
    stateGauges.clear();
    expiries.close();
    nextRotations.close();
    states.clear();
  }

  /**
   * One gauge per robot holding a point in time (Unix seconds), tagged with the HarborRobot's
   * namespace and name; no series for a robot without that time.
   */
  private static final class TimestampGauges {

    private record Series(Gauge gauge, AtomicLong epochSecond) {}

    private final MeterRegistry registry;
    private final String name;
    private final String description;
    private final Map<ResourceID, Series> byRobot = new ConcurrentHashMap<>();

    TimestampGauges(MeterRegistry registry, String name, String description) {
      this.registry = registry;
      this.name = name;
      this.description = description;
    }

    void set(ResourceID id, Optional<Instant> time) {
      if (time.isEmpty()) {
        drop(id);
        return;
      }
      byRobot.computeIfAbsent(id, this::register).epochSecond().set(time.get().getEpochSecond());
    }

    private Series register(ResourceID id) {
      AtomicLong epochSecond = new AtomicLong();
      Gauge gauge =
          Gauge.builder(name, epochSecond, AtomicLong::doubleValue)
              .description(description)
              .baseUnit("seconds")
              .tags("namespace", id.getNamespace().orElse(""), "name", id.getName())
              .register(registry);
      return new Series(gauge, epochSecond);
    }

    void drop(ResourceID id) {
      Series gone = byRobot.remove(id);
      if (gone != null) {
        registry.remove(gone.gauge());
      }
    }

    void close() {
      byRobot.keySet().forEach(this::drop);
    }
  }

  private static double countIn(Map<ResourceID, ReadyState> all, ReadyState state) {
    return all.values().stream().filter(state::equals).count();
  }

  private static Optional<Instant> parse(String instant) {
    try {
      return instant == null ? Optional.empty() : Optional.of(Instant.parse(instant));
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }
}
