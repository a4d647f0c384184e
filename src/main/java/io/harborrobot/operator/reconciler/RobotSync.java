package io.harborrobot.operator.reconciler;

import static io.harborrobot.operator.secret.CredentialSecrets.APPLIED;
import static io.harborrobot.operator.secret.CredentialSecrets.CREATE_TOKEN;
import static io.harborrobot.operator.secret.CredentialSecrets.PENDING;
import static io.harborrobot.operator.secret.CredentialSecrets.ROBOT_ID;
import static io.harborrobot.operator.secret.CredentialSecrets.ROTATED_AT;
import static io.harborrobot.operator.secret.CredentialSecrets.ROTATE_HANDLED;
import static io.harborrobot.operator.secret.CredentialSecrets.ROTATION_TRIGGER;
import static io.harborrobot.operator.secret.CredentialSecrets.VERIFIED;

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
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

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
  private final RobotMetrics metrics;
  private final CredentialChecks checks;
  private final Clock clock;

  public RobotSync(
      CredentialSecretStore secrets,
      EventRecorder events,
      RobotMetrics metrics,
      CredentialChecks checks,
      Clock clock) {
    this.secrets = secrets;
    this.events = events;
    this.metrics = metrics;
    this.checks = checks;
    this.clock = clock;
  }

  /**
   * What a sync did and found: the robot as Harbor now holds it, the Ready reason and message that
   * describe the pass, when the current secret was set and when the next rotation is due.
   */
  public record Outcome(
      Robot robot, String reason, String message, Instant rotatedAt, Instant nextRotation) {}

  /** The robot a lookup found, and whether it was adopted (taken over) rather than known. */
  private record Found(Robot robot, boolean adopted) {}

  /** One pass over the robot; throws {@link ReconcileProblem} or {@link HarborException}. */
  public Outcome sync(HarborRobot cr, HarborSession session) {
    DesiredRobot desired = DesiredRobot.of(cr);
    RotationPlan plan = desired.plan();
    HarborClient harbor = session.client();
    Instant now = clock.instant();
    Pass pass = new Pass(cr, session);

    // 1. The Secret must be ours (or not exist yet): never write over someone else's. When the
    //    Secret was renamed, the credential moves over from the previous one.
    Secret secret = ownedSecretOrNone(cr);
    Secret source = secret != null ? secret : previousSecret(cr);
    Map<String, String> marks = bookkeeping(source);
    boolean robotWasRecorded = !recordedRobotIds(cr, marks).isEmpty();

    // 2. Find the robot this resource owns; null means it has to be created. A resource that
    //    recorded nothing (no robot, no create under way) has none: it goes straight to the create,
    //    and Harbor's 409 tells when the name is taken. Once a conflict is reported, the name is
    //    looked up instead: a resync does not send Harbor a create bound to fail.
    boolean createFirst =
        !robotWasRecorded && !marks.containsKey(CREATE_TOKEN) && !conflictReported(cr);
    Found found;
    if (createFirst) {
      if (!desired.system()) {
        requireProject(harbor, desired.project());
      }
      found = null;
    } else {
      found = locate(cr, desired, harbor, marks, true);
    }
    Robot robot = found == null ? null : found.robot();

    // 3. Decide the password and persist it before Harbor depends on it (for a new robot, right
    //    after the create, whose own generated secret is never used; a create retried after an
    //    earlier attempt records its token first). A password whose fingerprint matches neither
    //    what Harbor holds nor what we were about to set was not written by us: replace it (the
    //    credential is broken anyway). A rotation replaces a working password, so its new one
    //    waits aside ("pending") until Harbor has it. Anything persisted but not yet applied is
    //    finished, never replaced by another.
    String password = source == null ? null : CredentialSecrets.password(source).orElse(null);
    String pending = source == null ? null : pendingOf(source, marks);
    RobotMetrics.Repair secretRepair = null;
    RotationPlan.Trigger rotation = null;
    boolean freshPassword = false;
    if (password == null || !knownPassword(password, marks)) {
      freshPassword = true;
      if (source != null) {
        secretRepair = RobotMetrics.Repair.SECRET_EDITED;
      } else if (robot != null && !found.adopted()) {
        secretRepair = RobotMetrics.Repair.SECRET_MISSING;
      }
      password = newPassword(marks);
      pending = null;
    } else if (robot != null && pending == null && !pending(password, marks)) {
      rotation =
          plan.due(robot, rotatedAt(source, marks), marks.get(ROTATE_HANDLED), now).orElse(null);
      if (rotation != null) {
        freshPassword = true;
        pending = RobotSecret.generate().reveal();
        marks.put(PENDING, CredentialSecrets.fingerprint(pending));
        marks.put(ROTATION_TRIGGER, rotation.name());
      }
    } else if (pending != null) {
      // A rotation an earlier pass started: finish it, and report it as what it was.
      rotation = RotationPlan.Trigger.parse(marks.get(ROTATION_TRIGGER));
    }
    if (robot == null && pending != null) {
      // The robot to rotate is gone: its replacement starts with the new password.
      password = pending;
      pending = null;
      marks.remove(APPLIED);
    }
    if (plan.requested() != null && (robot == null || freshPassword)) {
      // A new password answers the current rotate request, whatever else asked for it.
      marks.put(ROTATE_HANDLED, plan.requested());
    }
    if (robot == null) {
      // The same token for every attempt until one succeeds: an earlier POST that timed out may
      // still land after this one, and its robot must be recognised as ours too.
      marks.putIfAbsent(CREATE_TOKEN, DesiredRobot.ownerToken(cr));
    }
    String previousUsername =
        source == null
            ? null
            : CredentialSecrets.credential(source).map(Credential::username).orElse(null);
    if (robot != null || !createFirst) {
      secret = pass.write(secret, usernameGuess(cr, source, desired), password, pending, marks);
    }

    boolean created = false;
    RobotCreated response = null;
    if (robot == null) {
      try {
        response = create(desired, harbor, marks.get(CREATE_TOKEN));
      } catch (ReconcileProblem taken) {
        if (!createFirst || !Reasons.ROBOT_CONFLICT.equals(taken.reason())) {
          throw taken;
        }
        // The name is taken: by a create of ours whose answer was lost (it carries our token),
        // by a robot to adopt, or by someone else's (reported; nothing was written for it).
        found = locate(cr, desired, harbor, marks, true);
        if (found == null) {
          throw taken;
        }
        robot = found.robot();
      } catch (HarborException unknown) {
        if (unknown.kind() != HarborException.Kind.OUTCOME_UNKNOWN) {
          throw unknown;
        }
        // The create may have landed: look before anything is sent again. The Secret records the
        // create as under way first, so that a later pass looks too when this lookup fails.
        secret = pass.write(secret, usernameGuess(cr, source, desired), password, pending, marks);
        found = locate(cr, desired, harbor, marks, true);
        if (found == null) {
          throw unknown;
        }
        robot = found.robot();
      }
    }
    if (response != null) {
      String token = marks.get(CREATE_TOKEN);
      created = true;
      // Harbor generated its own secret; ours replaces it before anyone could use it, and is
      // recorded first, with the robot's id.
      marks.put(ROBOT_ID, Long.toString(response.id()));
      secret = pass.write(secret, response.name(), password, null, marks);
      harbor.setRobotSecret(response.id(), RobotSecret.of(password));
      applied(marks, response.id(), password);
      if (robotWasRecorded) {
        pass.repaired(
            RobotMetrics.Repair.ROBOT_DELETED,
            "Robot "
                + response.name()
                + " was deleted from Harbor outside the operator; created it again (id "
                + response.id()
                + ") with the secret in Secret "
                + cr.effectiveSecretName());
      } else {
        events.normal(
            cr,
            Reasons.CREATED,
            "Created robot "
                + response.name()
                + " (id "
                + response.id()
                + ") in "
                + desired.scopeDescription());
        pass.outcome(
            Reasons.CREATED,
            "Created robot "
                + response.name()
                + "; Secret "
                + cr.effectiveSecretName()
                + " holds its credentials");
      }
      robot = desired.asCreated(response, token);
    }

    // Record which robot is ours before anything else changes it: a recovered or adopted robot is
    // known by its id from here on, whatever its description says.
    if (!Long.toString(robot.id()).equals(marks.get(ROBOT_ID))) {
      marks.put(ROBOT_ID, Long.toString(robot.id()));
      secret = pass.write(secret, robot.name(), password, pending, marks);
    }

    // 4. Harbor's copy follows the spec; a PUT replaces every field, so one call fixes all drift
    //    (after a create, only to disable the robot: Harbor ignores that on create). The duration
    //    renews an expiring robot's lifetime when it is due.
    List<String> drift = desired.drift(robot, now);
    if (!drift.isEmpty()) {
      boolean disabledByHand = robot.isDisabled() && !desired.disabled();
      Instant expiredAt = RotationPlan.expired(robot, now) ? RotationPlan.expiry(robot) : null;
      try {
        harbor.updateRobot(desired.toUpdate(robot, now));
      } catch (HarborException e) {
        throw missingProjectOr(e, desired, harbor);
      }
      // Harbor recomputes the expiry only when the duration changes; otherwise the PUT body is
      // exactly what Harbor now holds.
      robot = drift.contains("duration") ? fetch(harbor, robot.id()) : desired.applyTo(robot);
      List<String> updated = new ArrayList<>(drift);
      if (disabledByHand) {
        updated.remove("disabled");
        pass.repaired(
            RobotMetrics.Repair.ROBOT_DISABLED,
            "Robot " + robot.name() + " was disabled in Harbor outside the operator; enabled it");
      }
      if (expiredAt != null || rotation == RotationPlan.Trigger.RENEWAL) {
        updated.remove("duration");
      }
      if (expiredAt != null) {
        pass.repaired(
            RobotMetrics.Repair.ROBOT_EXPIRED,
            "Robot "
                + robot.name()
                + " had expired at "
                + expiredAt
                + "; renewed it"
                + until(robot));
      }
      if (!created && !updated.isEmpty()) {
        events.normal(
            cr, Reasons.UPDATED, "Updated " + String.join(", ", updated) + " of " + robot.name());
      }
    }

    // 5. Harbor must hold the persisted password (a rotation's pending one, then it becomes the
    //    password workloads read).
    String toApply = pending != null ? pending : password;
    if (!CredentialSecrets.appliedMarker(robot.id(), toApply).equals(marks.get(APPLIED))) {
      harbor.setRobotSecret(robot.id(), RobotSecret.of(toApply));
      applied(marks, robot.id(), toApply);
      password = toApply;
      pending = null;
      if (secretRepair != null) {
        pass.repaired(
            secretRepair,
            (secretRepair == RobotMetrics.Repair.SECRET_MISSING
                    ? "Secret " + cr.effectiveSecretName() + " was deleted"
                    : "The credential in Secret "
                        + cr.effectiveSecretName()
                        + " was changed outside the operator")
                + "; set a new secret for "
                + robot.name()
                + " and stored it");
      } else if (rotation != null) {
        metrics.rotated(rotation);
        String message =
            "Rotated the secret of "
                + robot.name()
                + " because "
                + rotation.why()
                + (rotation == RotationPlan.Trigger.RENEWAL ? "; renewed it" + until(robot) : "");
        events.normal(cr, Reasons.ROTATED, message);
        pass.outcome(Reasons.ROTATED, message);
      } else if (found != null && found.adopted()) {
        pass.outcome(
            Reasons.ADOPTED,
            "Adopted robot "
                + robot.name()
                + " and replaced its secret with the one in Secret "
                + cr.effectiveSecretName());
      } else if (!created) {
        events.normal(cr, Reasons.SECRET_SET, "Set the secret of " + robot.name() + " in Harbor");
      }
    }
    marks.put(ROBOT_ID, Long.toString(robot.id()));
    marks.remove(CREATE_TOKEN);

    // 6. The Secret follows Harbor's name: an administrator may change the prefix at any time.
    if (!created
        && previousUsername != null
        && !previousUsername.equals(robot.name())
        && desired.isNamed(previousUsername)) {
      pass.repaired(
          RobotMetrics.Repair.NAME_PREFIX_CHANGED,
          "Harbor now calls the robot "
              + robot.name()
              + " (its name prefix changed); rewrote the username in Secret "
              + cr.effectiveSecretName());
    }
    // Written once, after the check below: nothing Harbor is asked from here on depends on it,
    // unless the check finds the credential revoked, and then it writes the new one first.
    pass.holds(secret, robot.name(), password);

    // 7. The stored credential must log in to the registry, checked after every change and on
    //    schedule. Refused although Harbor holds the robot as we set it: its secret was changed
    //    in Harbor (a "Refresh secret" by hand), so it counts as revoked and gets a new one.
    try {
      if (robot.isDisabled()) {
        // Nothing to check (a disabled robot cannot log in), and nothing due later either.
        checks.forget(cr.getMetadata().getUid());
      } else {
        verify(cr, pass, harbor, robot, password, marks);
      }
    } catch (RuntimeException e) {
      try {
        pass.flush(marks);
      } catch (RuntimeException writeFailure) {
        e.addSuppressed(writeFailure);
      }
      throw e;
    }
    pass.flush(marks);

    Instant rotatedAt = rotatedAt(pass.secret(), marks);
    return new Outcome(
        robot,
        pass.reason(robot.isDisabled() ? Reasons.DISABLED : Reasons.SYNCED),
        pass.message(
            robot.isDisabled()
                ? "Robot " + robot.name() + " is disabled in Harbor as requested"
                : "Robot "
                    + robot.name()
                    + " is in sync; Secret "
                    + cr.effectiveSecretName()
                    + " holds its credentials"),
        rotatedAt,
        plan.nextRotation(robot, rotatedAt).orElse(null));
  }

  private void verify(
      HarborRobot cr,
      Pass pass,
      HarborClient harbor,
      Robot robot,
      String password,
      Map<String, String> marks) {
    String uid = cr.getMetadata().getUid();
    String credential = credentialKey(robot, password);
    Instant now = clock.instant();
    if (!checks.due(uid, credential, now)) {
      return;
    }
    if (login(harbor, robot, password)) {
      accepted(marks, uid, credential);
      return;
    }
    // Only a credential the registry accepted before can have had its secret changed in Harbor.
    // One it never accepted (a proxy in front of /v2/, a registry that is not this Harbor's) is
    // reported, not "repaired" with a new secret at every restart.
    if (credential.equals(marks.get(VERIFIED))) {
      password = newPassword(marks);
      pass.write(pass.secret(), robot.name(), password, null, marks);
      harbor.setRobotSecret(robot.id(), RobotSecret.of(password));
      applied(marks, robot.id(), password);
      pass.write(pass.secret(), robot.name(), password, null, marks);
      pass.repaired(
          RobotMetrics.Repair.SECRET_REFRESHED_IN_HARBOR,
          "The registry refused the credential in Secret "
              + cr.effectiveSecretName()
              + " that it accepted before (was its secret refreshed in Harbor?); set a new secret"
              + " for "
              + robot.name()
              + " and stored it");
      credential = credentialKey(robot, password);
      if (login(harbor, robot, password)) {
        accepted(marks, uid, credential);
        return;
      }
    }
    checks.record(uid, credential, clock.instant(), false);
    throw new ReconcileProblem(
        Reasons.CREDENTIAL_REJECTED,
        "Harbor's registry refuses the login of "
            + robot.name()
            + " with the secret Harbor accepted for it; check that the connection's URL and"
            + " registry are the same Harbor",
        true);
  }

  /**
   * The registry accepted the credential: remember when, and in the Secret (by the pass's last
   * write) that it did.
   */
  private void accepted(Map<String, String> marks, String uid, String credential) {
    checks.record(uid, credential, clock.instant(), true);
    marks.put(VERIFIED, credential);
  }

  private boolean login(HarborClient harbor, Robot robot, String password) {
    boolean accepted = harbor.registryLoginSucceeds(robot.name(), RobotSecret.of(password));
    metrics.checked(accepted);
    return accepted;
  }

  /** Which credential a check is about: robot, password and login name. */
  private static String credentialKey(Robot robot, String password) {
    return CredentialSecrets.appliedMarker(robot.id(), password) + ":" + robot.name();
  }

  /** A fresh password, persisted as pending (not yet known to Harbor) by the next write. */
  private static String newPassword(Map<String, String> marks) {
    String password = RobotSecret.generate().reveal();
    marks.remove(APPLIED);
    marks.put(PENDING, CredentialSecrets.fingerprint(password));
    return password;
  }

  /** Harbor accepted {@code password} for robot {@code id} just now. */
  private void applied(Map<String, String> marks, long id, String password) {
    marks.put(APPLIED, CredentialSecrets.appliedMarker(id, password));
    marks.remove(PENDING);
    marks.remove(ROTATION_TRIGGER);
    marks.put(ROTATED_AT, clock.instant().truncatedTo(ChronoUnit.SECONDS).toString());
  }

  /** Whether {@code password} was persisted but Harbor is not known to hold it yet. */
  private static boolean pending(String password, Map<String, String> marks) {
    return CredentialSecrets.fingerprint(password).equals(marks.get(PENDING));
  }

  /** A rotation's new password waiting in the Secret, when its fingerprint is the pending one. */
  private static String pendingOf(Secret secret, Map<String, String> marks) {
    return CredentialSecrets.pendingPassword(secret)
        .filter(p -> CredentialSecrets.fingerprint(p).equals(marks.get(PENDING)))
        .orElse(null);
  }

  /** When the current password was set: recorded by the operator, else the Secret's birth. */
  private static Instant rotatedAt(Secret secret, Map<String, String> marks) {
    Instant recorded = parse(marks.get(ROTATED_AT));
    if (recorded != null) {
      return recorded;
    }
    return secret == null ? null : parse(secret.getMetadata().getCreationTimestamp());
  }

  private static Instant parse(String timestamp) {
    try {
      return timestamp == null ? null : Instant.parse(timestamp);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static String until(Robot robot) {
    Instant expiry = RotationPlan.expiry(robot);
    return expiry == null ? " (it no longer expires)" : " until " + expiry;
  }

  /**
   * One reconcile pass of one HarborRobot: writes its Secret, records repairs as Events and
   * metrics, and remembers the most telling Ready reason and message for the status.
   */
  private final class Pass {
    private final HarborRobot cr;
    private final HarborSession session;
    private Secret secret;
    private String heldUsername;
    private String heldPassword;
    private String reason;
    private String message;

    Pass(HarborRobot cr, HarborSession session) {
      this.cr = cr;
      this.session = session;
    }

    /**
     * From now on the Secret is to hold this credential (and no pending one); {@link #flush} writes
     * it. {@code current} is the Secret as last read or written.
     */
    void holds(Secret current, String username, String password) {
      secret = current;
      heldUsername = username;
      heldPassword = password;
    }

    /** Writes what the Secret is to hold with {@code marks}; nothing when it already does. */
    Secret flush(Map<String, String> marks) {
      return write(secret, heldUsername, heldPassword, null, marks);
    }

    Secret write(
        Secret current,
        String username,
        String password,
        String pendingPassword,
        Map<String, String> marks) {
      heldUsername = username;
      heldPassword = password;
      secret =
          secrets.write(
              cr,
              current,
              new Credential(
                  session.registryHost(),
                  username,
                  password,
                  session.harborUrl(),
                  cr.getSpec().getProject()),
              pendingPassword,
              marks);
      return secret;
    }

    Secret secret() {
      return secret;
    }

    void repaired(RobotMetrics.Repair kind, String text) {
      metrics.repaired(kind);
      events.warning(cr, Reasons.CREDENTIAL_REPAIRED, text);
      outcome(Reasons.CREDENTIAL_REPAIRED, text);
    }

    /** A repair is what the status shows: it tells more than anything else the pass did. */
    void outcome(String newReason, String newMessage) {
      if (!Reasons.CREDENTIAL_REPAIRED.equals(reason)) {
        reason = newReason;
        message = newMessage;
      }
    }

    String reason(String otherwise) {
      return reason == null ? otherwise : reason;
    }

    String message(String otherwise) {
      return message == null ? otherwise : message;
    }
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
              locate(
                  cr, DesiredRobot.of(cr), session.client(), bookkeeping(ownedSecret(cr)), false))
          .map(Found::robot);
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
   * robot carries the token of a create this resource had under way (its response was lost), or
   * when {@code mayAdopt} and the spec asks to adopt an existing robot. Null when there is none.
   */
  private Found locate(
      HarborRobot cr,
      DesiredRobot desired,
      HarborClient harbor,
      Map<String, String> marks,
      boolean mayAdopt) {
    Set<Long> knownIds = recordedRobotIds(cr, marks);
    for (long id : knownIds) {
      Optional<Robot> byId =
          (desired.system() ? harbor.getRobot(id) : harbor.getProjectRobot(desired.project(), id))
              .filter(desired::isThisRobot);
      if (byId.isPresent()) {
        return new Found(byId.get(), false);
      }
    }
    Optional<Robot> byName =
        desired.system()
            ? harbor.findSystemRobot(desired.robotName())
            : harbor.findProjectRobot(
                requireProject(harbor, desired.project()), desired.robotName());
    if (byName.isEmpty()) {
      return null;
    }
    Robot found = byName.get();
    if (!desired.withinGrants(found)) {
      throw new ReconcileProblem(
          Reasons.ROBOT_CONFLICT,
          "System robot "
              + found.name()
              + " (id "
              + found.id()
              + ") has permissions in projects this HarborRobot does not grant; it was left"
              + " untouched",
          false);
    }
    if (knownIds.contains(found.id())) {
      return new Found(found, false);
    }
    if (createdByThisResource(cr, marks, found)) {
      if (mayAdopt) {
        events.normal(
            cr,
            Reasons.RECOVERED,
            "Found robot "
                + found.name()
                + " (id "
                + found.id()
                + ") that this resource was creating when it was interrupted; taking it over");
      }
      return new Found(found, false);
    }
    if (mayAdopt && Boolean.TRUE.equals(cr.getSpec().getAdoptExisting())) {
      events.normal(
          cr,
          Reasons.ADOPTED,
          "Adopted robot "
              + found.name()
              + " (id "
              + found.id()
              + ") that already existed in Harbor (adoptExisting); its secret is replaced");
      return new Found(found, true);
    }
    throw new ReconcileProblem(
        Reasons.ROBOT_CONFLICT,
        "Robot "
            + found.name()
            + " (id "
            + found.id()
            + ") already exists in Harbor and was not created by this HarborRobot; it was left"
            + " untouched. If it is this resource's robot (for example after moving to a new"
            + " cluster), set spec.adoptExisting: true to take it over; its secret will be"
            + " replaced",
        false);
  }

  private static boolean conflictReported(HarborRobot cr) {
    return cr.getStatus() != null
        && Conditions.find(cr.getStatus().getConditions(), Conditions.READY)
            .filter(ready -> Reasons.ROBOT_CONFLICT.equals(ready.getReason()))
            .isPresent();
  }

  /**
   * Whether the robot carries the marker of this resource: of the token recorded as under way, or
   * of its uid, which every robot it creates keeps in its description and which needs nothing
   * recorded (a create is sent before the Secret is written).
   */
  private static boolean createdByThisResource(
      HarborRobot cr, Map<String, String> marks, Robot robot) {
    return DesiredRobot.isMarkedWith(robot, marks.get(CREATE_TOKEN))
        || DesiredRobot.isMarkedWith(robot, DesiredRobot.ownerToken(cr));
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
                + " in "
                + desired.scopeDescription()
                + "; checking whether this HarborRobot created it",
            true,
            e);
      }
      throw missingProjectOr(e, desired, harbor);
    }
  }

  /**
   * Harbor answers 404 when a System robot names a project it does not have, which reads like a
   * fault; the projects are looked up only then (not on every pass) to report ProjectNotFound.
   */
  private static RuntimeException missingProjectOr(
      HarborException e, DesiredRobot desired, HarborClient harbor) {
    if (e.kind() != HarborException.Kind.NOT_FOUND || !desired.system()) {
      return e;
    }
    List<String> missing =
        desired.grantedProjects().stream()
            .filter(project -> !project.equals("*") && harbor.findProject(project).isEmpty())
            .toList();
    if (missing.isEmpty()) {
      return e;
    }
    return new ReconcileProblem(
        Reasons.PROJECT_NOT_FOUND,
        missing.size() == 1
            ? "Project "
                + missing.get(0)
                + " does not exist in Harbor (or is not visible to the connection's user)"
            : "Projects "
                + String.join(", ", missing)
                + " do not exist in Harbor (or are not visible to the connection's user)",
        false,
        e);
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
      for (String key : CredentialSecrets.BOOKKEEPING) {
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
        .orElse(
            desired.system()
                ? "robot$" + desired.robotName()
                : "robot$" + desired.project() + "+" + desired.robotName());
  }
}
