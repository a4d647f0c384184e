package io.harborrobot.operator.reconciler;

import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.HarborRobotSpec;
import io.harborrobot.operator.api.v1alpha1.Permission;
import io.harborrobot.operator.api.v1alpha1.ProjectPermissions;
import io.harborrobot.operator.harbor.Access;
import io.harborrobot.operator.harbor.Robot;
import io.harborrobot.operator.harbor.RobotCreate;
import io.harborrobot.operator.harbor.RobotPermission;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/** What a HarborRobot asks of Harbor, and how a robot in Harbor differs from it. */
public final class DesiredRobot {

  static final String LEVEL_PROJECT = "project";

  private final String project;
  private final String robotName;
  private final String description;
  private final RotationPlan plan;
  private final boolean disabled;
  private final Map<String, Set<String>> permissions;

  private DesiredRobot(HarborRobot robot) {
    HarborRobotSpec spec = robot.getSpec();
    this.project = spec.getProject();
    this.robotName = robot.effectiveRobotName();
    this.description = spec.getDescription() == null ? "" : spec.getDescription();
    this.plan = RotationPlan.of(robot);
    this.disabled = Boolean.TRUE.equals(spec.getDisabled());
    this.permissions = ProjectPermissions.normalize(requestedPermissions(spec));
  }

  public static DesiredRobot of(HarborRobot robot) {
    return new DesiredRobot(robot);
  }

  /** The spec's permissions, from the preset when one is given. */
  public static List<Permission> requestedPermissions(HarborRobotSpec spec) {
    if (spec.getPreset() != null) {
      return spec.getPreset().permissions();
    }
    return spec.getPermissions() == null ? List.of() : spec.getPermissions();
  }

  public String robotName() {
    return robotName;
  }

  public String project() {
    return project;
  }

  public boolean disabled() {
    return disabled;
  }

  public RotationPlan plan() {
    return plan;
  }

  /**
   * The description a robot carries between its create and the PUT that follows: it names the token
   * recorded in the Secret, which is how a robot whose create response was lost is told apart from
   * one somebody else made.
   */
  public static String creationMarker(String token) {
    return "harbor-robot-operator is creating this robot (token " + token + ")";
  }

  /**
   * The POST body, with the creation marker as description. Harbor ignores disable on create; the
   * PUT that follows sets the real description and disables the robot when asked.
   */
  public RobotCreate toCreate(String token) {
    return new RobotCreate(
        robotName,
        creationMarker(token),
        LEVEL_PROJECT,
        plan.createDuration(),
        List.of(permissionScope()));
  }

  /**
   * The full PUT body for {@code current} at {@code now}: Harbor replaces every field it is given,
   * and the duration renews the expiry when it is due (see {@link RotationPlan#durationFor}).
   */
  public Robot toUpdate(Robot current, Instant now) {
    return withSpec(current, plan.durationFor(current, now), null, null, null, null);
  }

  /** {@code current} as Harbor holds it after {@link #toUpdate} with an unchanged duration. */
  public Robot applyTo(Robot current) {
    return withSpec(
        current,
        current.duration(),
        current.editable(),
        current.expiresAt(),
        current.creationTime(),
        current.updateTime());
  }

  private Robot withSpec(
      Robot current,
      Long duration,
      Boolean editable,
      Long expiresAt,
      java.time.OffsetDateTime creationTime,
      java.time.OffsetDateTime updateTime) {
    return new Robot(
        current.id(),
        current.name(),
        description,
        LEVEL_PROJECT,
        duration,
        editable,
        disabled,
        expiresAt,
        List.of(permissionScope()),
        creationTime,
        updateTime);
  }

  /**
   * The fields of {@code actual} that differ from the spec at {@code now}, by name; empty when in
   * sync. "duration" means the expiry is not what the spec and the rotation plan want.
   */
  public List<String> drift(Robot actual, Instant now) {
    List<String> drift = new ArrayList<>();
    if (!description.equals(actual.description() == null ? "" : actual.description())) {
      drift.add("description");
    }
    if (disabled != actual.isDisabled()) {
      drift.add("disabled");
    }
    if (!Objects.equals(plan.durationFor(actual, now), actual.duration())) {
      drift.add("duration");
    }
    if (!permissionsMatch(actual.permissions())) {
      drift.add("permissions");
    }
    return drift;
  }

  /**
   * Whether {@code robot}, as Harbor returns it, is this spec's robot: a project robot whose one
   * permission scope is this project and whose full name ends in {@code <project>+<robotName>}. A
   * name alone is not enough: project "app" would match "robot$payments-app+ci". Robot ids are
   * recorded in a Secret that tenants may edit, so an id is only trusted for the right robot.
   */
  public boolean isThisRobot(Robot robot) {
    if (robot == null || !LEVEL_PROJECT.equals(robot.level()) || !isNamed(robot.name())) {
      return false;
    }
    List<RobotPermission> scopes = robot.permissions();
    return scopes != null
        && !scopes.isEmpty()
        && scopes.stream()
            .allMatch(p -> LEVEL_PROJECT.equals(p.kind()) && project.equals(p.namespace()));
  }

  /** Whether {@code name}, as Harbor returns it, is this robot's full name (any prefix). */
  public boolean isNamed(String name) {
    // Neither project nor robot names may contain '+', so the suffix "+<robot>" is anchored at
    // the one '+' Harbor puts between them, whatever the prefix holds.
    return name != null && name.endsWith(project + "+" + robotName);
  }

  private boolean permissionsMatch(List<RobotPermission> actual) {
    if (actual == null || actual.size() != 1) {
      return permissions.isEmpty() && (actual == null || actual.isEmpty());
    }
    RobotPermission scope = actual.get(0);
    if (!LEVEL_PROJECT.equals(scope.kind()) || !project.equals(scope.namespace())) {
      return false;
    }
    Set<String> granted = new TreeSet<>();
    for (Access access : scope.access() == null ? List.<Access>of() : scope.access()) {
      String effect = access.effect();
      if (effect != null && !effect.isEmpty() && !"allow".equals(effect)) {
        return false;
      }
      granted.add(access.resource() + ":" + access.action());
    }
    return granted.equals(wanted());
  }

  private Set<String> wanted() {
    Set<String> wanted = new TreeSet<>();
    permissions.forEach(
        (resource, actions) -> actions.forEach(a -> wanted.add(resource + ":" + a)));
    return wanted;
  }

  private RobotPermission permissionScope() {
    List<Access> access = new ArrayList<>();
    permissions.forEach(
        (resource, actions) -> actions.forEach(a -> access.add(Access.allow(resource, a))));
    return new RobotPermission(LEVEL_PROJECT, project, access);
  }
}
