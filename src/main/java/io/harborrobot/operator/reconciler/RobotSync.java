package io.harborrobot.operator.reconciler;

import static io.harborrobot.operator.secret.CredentialSecrets.APPLIED;
import static io.harborrobot.operator.secret.CredentialSecrets.CREATE_TOKEN;
import static io.harborrobot.operator.secret.CredentialSecrets.PENDING;
import static io.harborrobot.operator.secret.CredentialSecrets.ROBOT_ID;

import io.fabric8.kubernetes.api.model.Secret;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.harbor.HarborClient;
import io.harborrobot.operator.harbor.HarborException;
import io.harborrobot.operator.harbor.Project;
import io.harborrobot.operator.harbor.Robot;
import io.harborrobot.operator.harbor.RobotCreated;
import io.harborrobot.operator.harbor.RobotSecret;
import io.harborrobot.operator.secret.CredentialSecrets;
import io.harborrobot.operator.secret.CredentialSecrets.Credential;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Brings one HarborRobot's robot and Secret to the desired state. The order of steps is what keeps
 * a secret from ever being lost (DESIGN.md §4.2): a password is generated and <em>persisted</em> in
 * the Secret before Harbor is asked to use it, and the Secret records (see {@link
 * CredentialSecrets}) which password Harbor is known to hold, so a reconcile interrupted at any
 * point resumes from what is written down instead of guessing.
 */
public class RobotSync {

  private final CredentialSecretStore secrets;
  private final EventRecorder events;
  private final Clock clock;

  public RobotSync(CredentialSecretStore secrets, EventRecorder events, Clock clock) {
    this.secrets = secrets;
    this.events = events;
    this.clock = clock;
  }

  /** What a sync did and found. */
  public record Outcome(Robot robot, boolean created, Instant secretSetAt) {}

  /** One pass over the robot; throws {@link ReconcileProblem} or {@link HarborException}. */
  public Outcome sync(HarborRobot cr, HarborSession session) {
    DesiredRobot desired = DesiredRobot.of(cr);
    HarborClient harbor = session.client();

    // 1. The Secret must be ours (or not exist yet): never write over someone else's. When the
    //    Secret was renamed, the credential moves over from the previous one.
    Secret secret = ownedSecretOrNone(cr);
    Secret source = secret != null ? secret : previousSecret(cr);
    Map<String, String> marks = bookkeeping(source);

    // 2. Find the robot this resource owns; null means it has to be created.
    Robot robot = locate(cr, desired, harbor, marks);

    // 3. Persist the password (and, before a create, a token that will mark the robot as ours)
    //    before Harbor depends on it. A password whose fingerprint matches neither what Harbor
    //    holds nor what we were about to set was not written by us: replace it.
    String password = source == null ? null : CredentialSecrets.password(source).orElse(null);
    boolean repaired = false;
    if (password == null || !knownPassword(password, marks)) {
      repaired = source != null;
      password = RobotSecret.generate().reveal();
      marks.remove(APPLIED);
      marks.put(PENDING, CredentialSecrets.fingerprint(password));
    }
    if (robot == null) {
      // The same token for every attempt until one succeeds: an earlier POST that timed out may
      // still land after this one, and its robot must be recognised as ours too.
      marks.putIfAbsent(CREATE_TOKEN, UUID.randomUUID().toString());
    }
    secret =
        secrets.write(
            cr,
            secret,
            new Credential(session.registryHost(), usernameGuess(cr, source, desired), password),
            marks);

    boolean created = false;
    Instant secretSetAt = null;
    if (robot == null) {
      RobotCreated response = create(desired, harbor, marks.get(CREATE_TOKEN));
      created = true;
      // Harbor generated its own secret; ours replaces it before anyone could use it.
      harbor.setRobotSecret(response.id(), RobotSecret.of(password));
      secretSetAt = clock.instant();
      marks.put(ROBOT_ID, Long.toString(response.id()));
      marks.put(APPLIED, CredentialSecrets.appliedMarker(response.id(), password));
      marks.remove(PENDING);
      secret =
          secrets.write(
              cr, secret, new Credential(session.registryHost(), response.name(), password), marks);
      events.normal(
          cr,
          Reasons.CREATED,
          "Created robot "
              + response.name()
              + " (id "
              + response.id()
              + ") in project "
              + desired.project());
      robot = fetch(harbor, response.id());
    }

    // Record which robot is ours before anything else changes it: the PUT below replaces the
    // description, the create token's only trace in Harbor.
    if (!Long.toString(robot.id()).equals(marks.get(ROBOT_ID))) {
      marks.put(ROBOT_ID, Long.toString(robot.id()));
      secret =
          secrets.write(
              cr, secret, new Credential(session.registryHost(), robot.name(), password), marks);
    }

    // 4. Harbor's copy follows the spec; a PUT replaces every field, so one call fixes all drift
    //    (after a create, it also replaces the token in the description).
    List<String> drift = desired.drift(robot);
    if (!drift.isEmpty()) {
      harbor.updateRobot(desired.toUpdate(robot));
      // Harbor recomputes the expiry only when the duration changes; otherwise the PUT body is
      // exactly what Harbor now holds.
      robot = drift.contains("duration") ? fetch(harbor, robot.id()) : desired.applyTo(robot);
      if (!created) {
        events.normal(
            cr, Reasons.UPDATED, "Updated " + String.join(", ", drift) + " of " + robot.name());
      }
    }

    // 5. Harbor must hold the persisted password.
    String applied = CredentialSecrets.appliedMarker(robot.id(), password);
    if (!applied.equals(marks.get(APPLIED))) {
      harbor.setRobotSecret(robot.id(), RobotSecret.of(password));
      secretSetAt = clock.instant();
      marks.put(APPLIED, applied);
      marks.remove(PENDING);
      if (repaired) {
        events.warning(
            cr,
            Reasons.CREDENTIAL_REPAIRED,
            "The credential in Secret "
                + cr.effectiveSecretName()
                + " was changed or removed outside the operator; a new secret was set for "
                + robot.name());
      } else if (!created) {
        events.normal(cr, Reasons.SECRET_SET, "Set the secret of " + robot.name() + " in Harbor");
      }
    }
    marks.put(ROBOT_ID, Long.toString(robot.id()));
    marks.remove(CREATE_TOKEN);

    // 6. The Secret follows Harbor's name (the prefix may change) and the spec's labels.
    secrets.write(
        cr, secret, new Credential(session.registryHost(), robot.name(), password), marks);
    return new Outcome(robot, created, secretSetAt);
  }

  /**
   * Whether {@code cr} may own a robot in Harbor, from what Kubernetes holds: a recorded robot id
   * or a create that was under way. When not, deleting it needs no call to Harbor.
   */
  public boolean mayOwnRobot(HarborRobot cr) {
    Map<String, String> marks = bookkeeping(ownedSecret(cr));
    return !recordedRobotIds(cr, marks).isEmpty() || marks.containsKey(CREATE_TOKEN);
  }

  /**
   * The robot {@code cr} owns in Harbor, for deletion: empty when it never created one, when the
   * robot is gone, or when the robot of that name belongs to someone else.
   */
  public Optional<Robot> ownedRobot(HarborRobot cr, HarborSession session) {
    try {
      return Optional.ofNullable(
          locate(cr, DesiredRobot.of(cr), session.client(), bookkeeping(ownedSecret(cr))));
    } catch (ReconcileProblem p) {
      if (Reasons.ROBOT_CONFLICT.equals(p.reason())
          || Reasons.PROJECT_NOT_FOUND.equals(p.reason())) {
        return Optional.empty();
      }
      throw p;
    }
  }

  /**
   * The robot in Harbor that belongs to {@code cr}: by an id it recorded, else by name when the
   * robot carries the token of a create this resource had under way (its response was lost). Null
   * when there is none.
   */
  Robot locate(
      HarborRobot cr, DesiredRobot desired, HarborClient harbor, Map<String, String> marks) {
    Set<Long> knownIds = recordedRobotIds(cr, marks);
    for (long id : knownIds) {
      Optional<Robot> byId = harbor.getRobot(id).filter(r -> desired.isNamed(r.name()));
      if (byId.isPresent()) {
        return byId.get();
      }
    }
    Project project = requireProject(harbor, desired.project());
    Optional<Robot> byName = harbor.findProjectRobot(project, desired.robotName());
    if (byName.isEmpty()) {
      return null;
    }
    Robot found = byName.get();
    if (knownIds.contains(found.id())) {
      return found;
    }
    String token = marks.get(CREATE_TOKEN);
    if (token != null && DesiredRobot.creationMarker(token).equals(found.description())) {
      events.normal(
          cr,
          Reasons.RECOVERED,
          "Found robot "
              + found.name()
              + " (id "
              + found.id()
              + ") that this resource was creating when it was interrupted; taking it over");
      return found;
    }
    throw new ReconcileProblem(
        Reasons.ROBOT_CONFLICT,
        "Robot "
            + found.name()
            + " (id "
            + found.id()
            + ") already exists in Harbor and was not created by this HarborRobot; it was left"
            + " untouched",
        false);
  }

  private static RobotCreated create(DesiredRobot desired, HarborClient harbor, String token) {
    try {
      return harbor.createRobot(desired.toCreate(token));
    } catch (HarborException e) {
      if (e.kind() == HarborException.Kind.CONFLICT) {
        // Either an earlier attempt of ours landed late (its robot carries our token) or someone
        // else was faster; the next pass looks the robot up and tells which.
        throw new ReconcileProblem(
            Reasons.ROBOT_CONFLICT,
            "Harbor already has a robot "
                + desired.robotName()
                + " in project "
                + desired.project()
                + "; checking whether this HarborRobot created it",
            true,
            e);
      }
      throw e;
    }
  }

  private Secret ownedSecretOrNone(HarborRobot cr) {
    String name = cr.effectiveSecretName();
    Secret secret = secrets.find(cr.getMetadata().getNamespace(), name).orElse(null);
    if (secret != null && !CredentialSecrets.isOwnedBy(secret, cr)) {
      throw new ReconcileProblem(
          Reasons.SECRET_CONFLICT,
          "Secret "
              + name
              + " already exists and is not owned by this HarborRobot; it was left untouched."
              + " Delete it or set spec.secret.name to another name",
          false);
    }
    return secret;
  }

  private Secret ownedSecret(HarborRobot cr) {
    return secrets
        .find(cr.getMetadata().getNamespace(), cr.effectiveSecretName())
        .filter(s -> CredentialSecrets.isOwnedBy(s, cr))
        .orElse(null);
  }

  /** The owned Secret under the name the status last recorded, when the name has changed. */
  private Secret previousSecret(HarborRobot cr) {
    String previous = cr.getStatus() == null ? null : cr.getStatus().getSecretName();
    if (previous == null || previous.equals(cr.effectiveSecretName())) {
      return null;
    }
    return secrets
        .find(cr.getMetadata().getNamespace(), previous)
        .filter(s -> CredentialSecrets.isOwnedBy(s, cr))
        .orElse(null);
  }

  /**
   * Robot ids this resource recorded, freshest first: the Secret is written before the status, so
   * its ids win over a status that a crash left behind.
   */
  private static Set<Long> recordedRobotIds(HarborRobot cr, Map<String, String> marks) {
    Set<Long> ids = new LinkedHashSet<>();
    parseId(marks.get(ROBOT_ID)).ifPresent(ids::add);
    String applied = marks.get(APPLIED);
    if (applied != null && applied.contains(":")) {
      parseId(applied.substring(0, applied.indexOf(':'))).ifPresent(ids::add);
    }
    if (cr.getStatus() != null && cr.getStatus().getRobotId() != null) {
      ids.add(cr.getStatus().getRobotId());
    }
    return ids;
  }

  private static Optional<Long> parseId(String text) {
    try {
      return text == null ? Optional.empty() : Optional.of(Long.valueOf(text));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  private static Robot fetch(HarborClient harbor, long id) {
    return harbor
        .getRobot(id)
        .orElseThrow(
            () ->
                new ReconcileProblem(
                    Reasons.HARBOR_ERROR, "robot " + id + " vanished while being set up", true));
  }

  private static Project requireProject(HarborClient harbor, String name) {
    return harbor
        .findProject(name)
        .orElseThrow(
            () ->
                new ReconcileProblem(
                    Reasons.PROJECT_NOT_FOUND,
                    "Project "
                        + name
                        + " does not exist in Harbor (or is not visible to the connection's user)",
                    false));
  }

  private static boolean knownPassword(String password, Map<String, String> marks) {
    String fingerprint = CredentialSecrets.fingerprint(password);
    String applied = marks.get(APPLIED);
    return fingerprint.equals(marks.get(PENDING))
        || (applied != null && applied.endsWith(":" + fingerprint));
  }

  private static Map<String, String> bookkeeping(Secret secret) {
    Map<String, String> marks = new LinkedHashMap<>();
    if (secret != null && secret.getMetadata().getAnnotations() != null) {
      for (String key : List.of(ROBOT_ID, APPLIED, PENDING, CREATE_TOKEN)) {
        String value = secret.getMetadata().getAnnotations().get(key);
        if (value != null) {
          marks.put(key, value);
        }
      }
    }
    return marks;
  }

  /** Before Harbor has answered, the best guess of the login name: the last one seen. */
  private static String usernameGuess(HarborRobot cr, Secret secret, DesiredRobot desired) {
    if (cr.getStatus() != null && cr.getStatus().getRobotName() != null) {
      return cr.getStatus().getRobotName();
    }
    return Optional.ofNullable(secret)
        .flatMap(CredentialSecrets::credential)
        .map(Credential::username)
        .orElse("robot$" + desired.project() + "+" + desired.robotName());
  }
}
