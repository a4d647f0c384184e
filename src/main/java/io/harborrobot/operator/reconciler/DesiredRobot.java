package io.harborrobot.operator.reconciler;

import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.HarborRobotSpec;
import io.harborrobot.operator.api.v1alpha1.Permission;
import io.harborrobot.operator.api.v1alpha1.ProjectGrant;
import io.harborrobot.operator.api.v1alpha1.ProjectPermissions;
import io.harborrobot.operator.harbor.Access;
import io.harborrobot.operator.harbor.Robot;
import io.harborrobot.operator.harbor.RobotCreate;
import io.harborrobot.operator.harbor.RobotCreated;
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
  static final String LEVEL_SYSTEM = "system";

  private final String project;
  private final String robotName;
  private final String description;
  private final String harborDescription;
  private final RotationPlan plan;
  private final boolean disabled;
  private final Map<String, Set<String>> permissions;
  private final boolean system;

  /** Project (or "*") to its resource/actions, for a System-level robot; empty otherwise. */
  private final Map<String, Map<String, Set<String>>> grants = new java.util.TreeMap<>();

  private DesiredRobot(HarborRobot robot) {
    HarborRobotSpec spec = robot.getSpec();
    this.project = spec.getProject();
    this.robotName = robot.effectiveRobotName();
    this.description = spec.getDescription() == null ? "" : spec.getDescription();
    this.harborDescription = describe(description, ownerToken(robot));
    this.plan = RotationPlan.of(robot);
    this.disabled = Boolean.TRUE.equals(spec.getDisabled());
    this.system = spec.isSystemLevel();
    this.permissions = system ? Map.of() : ProjectPermissions.normalize(requestedPermissions(spec));
    if (system && spec.getProjects() != null) {
      for (ProjectGrant grant : spec.getProjects()) {
        List<Permission> requested =
            grant.getPreset() != null
                ? grant.getPreset().permissions()
                : grant.getPermissions() == null ? List.of() : grant.getPermissions();
        grants.put(grant.getName(), withPullForPush(ProjectPermissions.normalize(requested)));
      }
    }
  }

  /**
   * Harbor adds pull to push only for project robots; a system robot that may push but not pull
   * cannot push at all. The operator adds it.
   */
  private static Map<String, Set<String>> withPullForPush(Map<String, Set<String>> permissions) {
    Set<String> repository = permissions.get("repository");
    if (repository != null && repository.contains("push")) {
      repository.add("pull");
    }
    return permissions;
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

  public boolean system() {
    return system;
  }

  /** Where the robot works, for messages: "project p", or "projects a, b" for a system robot. */
  public String scopeDescription() {
    return system ? "projects " + String.join(", ", grants.keySet()) : "project " + project;
  }

  /** The projects a System-level robot works in ("*" for all); empty for a project robot. */
  public Set<String> grantedProjects() {
    return grants.keySet();
  }

  public boolean disabled() {
    return disabled;
  }

  /** The description Harbor holds for the robot: the spec's, then the marker of its owner. */
  public String harborDescription() {
    return harborDescription;
  }

  public RotationPlan plan() {
    return plan;
  }

  /**
   * The token that marks the robots of {@code robot} in Harbor: its uid, the same for every create
   * attempt and known to every pass without anything recorded.
   */
  public static String ownerToken(HarborRobot robot) {
    String uid = robot.getMetadata().getUid();
    return uid != null
        ? uid
        : "unsaved " + robot.getMetadata().getNamespace() + "/" + robot.getMetadata().getName();
  }

  /**
   * What ends the description of a robot the operator created, after the spec's description: Harbor
   * has no labels for robots, and a create whose response was lost (or whose Secret was never
   * written) is told apart from a robot somebody else made by it. It also tells a person in
   * Harbor's UI who manages the robot. 76 characters with a uid; the CRD keeps descriptions short
   * enough for both to fit Harbor's 1024.
   */
  public static String ownerMarker(String token) {
    return "(managed by harbor-robot-operator; uid " + token + ")";
  }

  /** Whether {@code robot}'s description carries the marker of {@code token}. */
  public static boolean isMarkedWith(Robot robot, String token) {
    String description = robot.description();
    return token != null
        && description != null
        && (description.endsWith(ownerMarker(token))
            // What robots created by releases before the marker stayed carried during the create.
            || description.equals(
                "harbor-robot-operator is creating this robot (token " + token + ")"));
  }

  private static String describe(String description, String token) {
    return description.isEmpty() ? ownerMarker(token) : description + " " + ownerMarker(token);
  }

  /**
   * The POST body, with the description and the marker of {@code token} (the uid, or an older
   * create's token recorded in the Secret). Harbor ignores disable on create; a PUT follows when
   * the robot must be disabled.
   */
  public RobotCreate toCreate(String token) {
    return new RobotCreate(
        robotName,
        describe(description, token),
        level(),
        plan.createDuration(),
        permissionScopes());
  }

  /**
   * The robot as Harbor holds it right after {@link #toCreate}: what was sent, with the id, full
   * name, creation time and expiry Harbor answered, enabled (Harbor ignores disable on create).
   * Reading it back would cost a request per new robot: the PUT that follows a create writes every
   * field anyway, and a duration Harbor did not take as sent is read back after that PUT.
   */
  public Robot asCreated(RobotCreated created, String token) {
    return new Robot(
        created.id(),
        created.name(),
        describe(description, token),
        level(),
        plan.createDuration(),
        true,
        false,
        created.expiresAt(),
        permissionScopes(),
        created.creationTime(),
        null);
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
        harborDescription,
        level(),
        duration,
        editable,
        disabled,
        expiresAt,
        permissionScopes(),
        creationTime,
        updateTime);
  }

  /**
   * The fields of {@code actual} that differ from the spec at {@code now}, by name; empty when in
   * sync. "duration" means the expiry is not what the spec and the rotation plan want.
   */
  public List<String> drift(Robot actual, Instant now) {
    List<String> drift = new ArrayList<>();
    String actualDescription = actual.description() == null ? "" : actual.description();
    // A robot made by a release before the marker, still as it left it, is in sync: adding the
    // marker alone would cost every such robot a PUT at the upgrade.
    if (!harborDescription.equals(actualDescription) && !description.equals(actualDescription)) {
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
    if (robot == null || !level().equals(robot.level()) || !isNamed(robot.name())) {
      return false;
    }
    if (system) {
      // A system robot spans projects: one whose grants reach beyond this spec's (a platform
      // robot with "*", say) is never taken for this spec's, whatever id a Secret records.
      return withinGrants(robot);
    }
    List<RobotPermission> scopes = robot.permissions();
    return scopes != null
        && !scopes.isEmpty()
        && scopes.stream()
            .allMatch(p -> LEVEL_PROJECT.equals(p.kind()) && project.equals(p.namespace()));
  }

  /** Whether {@code name}, as Harbor returns it, is this robot's full name (any prefix). */
  public boolean isNamed(String name) {
    if (name == null) {
      return false;
    }
    if (system) {
      // <prefix><robotName>. The character before the name ends the prefix: not one a robot name
      // may hold (or "robot$x-ci" would pass for "ci"), and not the '+' of a project robot.
      if (!name.endsWith(robotName) || name.length() == robotName.length()) {
        return false;
      }
      char before = name.charAt(name.length() - robotName.length() - 1);
      return !Character.isLetterOrDigit(before) && ".-_+".indexOf(before) < 0;
    }
    // Neither project nor robot names may contain '+', so the suffix "+<robot>" is anchored at
    // the one '+' Harbor puts between them, whatever the prefix holds.
    return name.endsWith(project + "+" + robotName);
  }

  /** Whether every project {@code robot} holds permissions in is one this spec grants. */
  public boolean withinGrants(Robot robot) {
    if (!system) {
      return true;
    }
    List<RobotPermission> scopes = robot.permissions() == null ? List.of() : robot.permissions();
    return scopes.stream()
        .allMatch(p -> LEVEL_PROJECT.equals(p.kind()) && grants.containsKey(p.namespace()));
  }

  private String level() {
    return system ? LEVEL_SYSTEM : LEVEL_PROJECT;
  }

  private List<RobotPermission> permissionScopes() {
    if (!system) {
      return List.of(permissionScope());
    }
    List<RobotPermission> scopes = new ArrayList<>();
    grants.forEach((namespace, perms) -> scopes.add(scope(namespace, perms)));
    return scopes;
  }

  private static RobotPermission scope(String namespace, Map<String, Set<String>> perms) {
    List<Access> access = new ArrayList<>();
    perms.forEach(
        (resource, actions) -> actions.forEach(a -> access.add(Access.allow(resource, a))));
    return new RobotPermission(LEVEL_PROJECT, namespace, access);
  }

  /** Project to "resource:action" pairs, as granted; null when an effect is not plain allow. */
  private static Map<String, Set<String>> grantedPairs(List<RobotPermission> actual) {
    Map<String, Set<String>> granted = new java.util.TreeMap<>();
    for (RobotPermission scope : actual == null ? List.<RobotPermission>of() : actual) {
      if (!LEVEL_PROJECT.equals(scope.kind())) {
        return null;
      }
      Set<String> pairs = granted.computeIfAbsent(scope.namespace(), n -> new TreeSet<>());
      for (Access access : scope.access() == null ? List.<Access>of() : scope.access()) {
        String effect = access.effect();
        if (effect != null && !effect.isEmpty() && !"allow".equals(effect)) {
          return null;
        }
        pairs.add(access.resource() + ":" + access.action());
      }
    }
    return granted;
  }

  private static Set<String> pairs(Map<String, Set<String>> perms) {
    Set<String> pairs = new TreeSet<>();
    perms.forEach((resource, actions) -> actions.forEach(a -> pairs.add(resource + ":" + a)));
    return pairs;
  }

  private boolean permissionsMatch(List<RobotPermission> actual) {
    if (system) {
      Map<String, Set<String>> wanted = new java.util.TreeMap<>();
      grants.forEach((namespace, perms) -> wanted.put(namespace, pairs(perms)));
      return wanted.equals(grantedPairs(actual));
    }
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
