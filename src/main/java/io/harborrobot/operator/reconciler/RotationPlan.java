package io.harborrobot.operator.reconciler;

import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.HarborRobotSpec;
import io.harborrobot.operator.api.v1alpha1.RotationSpec;
import io.harborrobot.operator.harbor.Robot;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * When a robot's secret is replaced and its lifetime renewed (DESIGN.md §4.4). Pure arithmetic over
 * the spec, the robot as Harbor returns it, and the time the current secret was set: every answer
 * depends on the {@code now} it is given, so it is tested with a fixed clock.
 *
 * <p>Harbor counts a robot's expiry from its <em>creation</em> time ({@code expires_at =
 * creation_time + duration days}), and recomputes it only when a PUT carries a different {@code
 * duration}. Renewing therefore means sending the duration that puts the expiry {@code
 * durationDays} after now, counted from the creation time.
 */
public final class RotationPlan {

  /** Annotation on a HarborRobot: a new value asks for a rotation now. */
  public static final String ROTATE_ANNOTATION = "harborrobot.io/rotate";

  static final Duration DAY = Duration.ofDays(1);
  private static final Duration DEFAULT_MAX_LEAD = Duration.ofDays(7);

  /** Why a rotation happens (the {@code trigger} label of the rotation metric). */
  public enum Trigger {
    REQUESTED("requested", "the " + ROTATE_ANNOTATION + " annotation asked for it"),
    RENEWAL("renewal", "the robot is due for renewal before it expires"),
    SCHEDULE("schedule", "rotation.everyDays has passed since the last rotation");

    private final String label;
    private final String why;

    Trigger(String label, String why) {
      this.label = label;
      this.why = why;
    }

    public String label() {
      return label;
    }

    public String why() {
      return why;
    }

    /** The trigger of that name, or {@link #SCHEDULE} for an unknown one. */
    public static Trigger parse(String name) {
      for (Trigger t : values()) {
        if (t.name().equals(name)) {
          return t;
        }
      }
      return SCHEDULE;
    }
  }

  private final long durationDays;
  private final Duration renewalLead;
  private final int everyDays;
  private final String requested;

  private RotationPlan(long durationDays, Duration renewalLead, int everyDays, String requested) {
    this.durationDays = durationDays;
    this.renewalLead = renewalLead;
    this.everyDays = everyDays;
    this.requested = requested;
  }

  public static RotationPlan of(HarborRobot cr) {
    HarborRobotSpec spec = cr.getSpec();
    long days = spec.getDurationDays() == null ? Robot.NEVER : spec.getDurationDays();
    RotationSpec rotation = spec.getRotation();
    Integer renewBefore = rotation == null ? null : rotation.getRenewBeforeDays();
    int every = rotation == null || rotation.getEveryDays() == null ? 0 : rotation.getEveryDays();
    Map<String, String> annotations = cr.getMetadata().getAnnotations();
    String requested = annotations == null ? null : annotations.get(ROTATE_ANNOTATION);
    return new RotationPlan(days, lead(days, renewBefore), every, requested);
  }

  /**
   * How long before expiry the robot is renewed: renewBeforeDays, else a third of its lifetime but
   * at most 7 days (so a 1-day robot renews 8 hours early). Null when the robot never expires.
   */
  static Duration lead(long durationDays, Integer renewBeforeDays) {
    if (durationDays == Robot.NEVER) {
      return null;
    }
    if (renewBeforeDays != null && renewBeforeDays < durationDays) {
      return Duration.ofDays(renewBeforeDays);
    }
    Duration third = DAY.multipliedBy(durationDays).dividedBy(3);
    return third.compareTo(DEFAULT_MAX_LEAD) < 0 ? third : DEFAULT_MAX_LEAD;
  }

  /** The rotate annotation's current value, or null. */
  public String requested() {
    return requested;
  }

  /**
   * Why the secret of {@code robot} must be replaced now, if it must. {@code rotatedAt} is when its
   * current secret was set; {@code handledRequest} the last rotate annotation value acted on.
   */
  public Optional<Trigger> due(Robot robot, Instant rotatedAt, String handledRequest, Instant now) {
    if (requested != null && !requested.equals(handledRequest)) {
      return Optional.of(Trigger.REQUESTED);
    }
    if (renewalDue(robot, now)) {
      return Optional.of(Trigger.RENEWAL);
    }
    if (everyDays > 0 && rotatedAt != null && !now.isBefore(scheduled(rotatedAt))) {
      return Optional.of(Trigger.SCHEDULE);
    }
    return Optional.empty();
  }

  /** Whether the robot is within its renewal lead of expiry (or past it). */
  public boolean renewalDue(Robot robot, Instant now) {
    Instant expiry = expiry(robot);
    return renewalLead != null && expiry != null && !now.isBefore(expiry.minus(renewalLead));
  }

  /**
   * The earliest moment a rotation will be due without anyone asking: the renewal point of an
   * expiring robot, or {@code everyDays} after the last rotation. Empty when neither applies.
   */
  public Optional<Instant> nextRotation(Robot robot, Instant rotatedAt) {
    Instant next = null;
    Instant expiry = expiry(robot);
    if (renewalLead != null && expiry != null) {
      next = expiry.minus(renewalLead);
    }
    if (everyDays > 0 && rotatedAt != null) {
      Instant scheduled = scheduled(rotatedAt);
      next = next == null || scheduled.isBefore(next) ? scheduled : next;
    }
    return Optional.ofNullable(next);
  }

  /**
   * The {@code duration} the robot should carry in Harbor now. -1 for a robot that never expires.
   * For an expiring one: its current duration while its expiry is acceptable (at least durationDays
   * from creation, not yet due for renewal, not beyond durationDays from now); when it is due for
   * renewal or has expired, the duration that puts its expiry durationDays from now (a fresh
   * lifetime); otherwise (it never expired before, or the spec changed) durationDays itself when
   * that is not due for renewal, else a fresh lifetime.
   */
  public long durationFor(Robot robot, Instant now) {
    if (durationDays == Robot.NEVER) {
      return Robot.NEVER;
    }
    if (renewalDue(robot, now)) {
      return freshDuration(robot, now);
    }
    Instant expiry = expiry(robot);
    boolean acceptable =
        expiry != null
            && robot.duration() != null
            && robot.duration() >= durationDays
            && !expiry.isAfter(now.plus(DAY.multipliedBy(durationDays + 1)));
    if (acceptable) {
      return robot.duration();
    }
    if (robot.creationTime() != null) {
      Instant asSpecified = robot.creationTime().toInstant().plus(DAY.multipliedBy(durationDays));
      if (now.isBefore(asSpecified.minus(renewalLead))) {
        return durationDays;
      }
    }
    return freshDuration(robot, now);
  }

  /** {@code ceil((now + durationDays - creation) / 1 day)}, at least durationDays. */
  long freshDuration(Robot robot, Instant now) {
    if (robot.creationTime() == null) {
      return durationDays;
    }
    Instant target = now.plus(DAY.multipliedBy(durationDays));
    Duration span = Duration.between(robot.creationTime().toInstant(), target);
    long days = span.toDays() + (span.minusDays(span.toDays()).isZero() ? 0 : 1);
    return Math.max(days, durationDays);
  }

  /** The durationDays to create the robot with: Harbor counts it from now. */
  public long createDuration() {
    return durationDays;
  }

  /** Whether the robot has expired (a disabled or never-expiring one has not). */
  public static boolean expired(Robot robot, Instant now) {
    Instant expiry = expiry(robot);
    return expiry != null && !now.isBefore(expiry);
  }

  /** The robot's expiry, or null when it never expires. */
  public static Instant expiry(Robot robot) {
    Long at = robot.expiresAt();
    return at == null || at <= 0 ? null : Instant.ofEpochSecond(at);
  }

  private Instant scheduled(Instant rotatedAt) {
    return rotatedAt.plus(DAY.multipliedBy(everyDays));
  }
}
