package io.harborrobot.operator.reconciler;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.harborrobot.operator.api.v1alpha1.ClusterHarborConnection;
import io.harborrobot.operator.api.v1alpha1.Condition;
import io.harborrobot.operator.api.v1alpha1.DeletionPolicy;
import io.harborrobot.operator.api.v1alpha1.HarborConnection;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.HarborRobotSpec;
import io.harborrobot.operator.api.v1alpha1.HarborRobotStatus;
import io.harborrobot.operator.harbor.HarborException;
import io.harborrobot.operator.harbor.Robot;
import io.harborrobot.operator.secret.CredentialSecrets;
import io.harborrobot.operator.secret.PullSecretLinks;
import io.javaoperatorsdk.operator.OperatorException;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.PrimaryUpdateAndCacheUtils;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.Mappers;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JOSDK entry point for HarborRobots: validates, resolves the connection, lets {@link
 * RobotSync} do the work, and reports the result as status, conditions and Events. Deletion goes
 * through {@link #cleanup}, which JOSDK guards with a finalizer.
 */
@ControllerConfiguration(name = HarborRobotReconciler.NAME)
public class HarborRobotReconciler implements Reconciler<HarborRobot>, Cleaner<HarborRobot> {

  public static final String NAME = "harborrobot";
  static final String CONNECTION_INDEX = "connection";
  static final String PULL_ACCOUNT_INDEX = "image-pull-service-account";

  /** fabric8's informers index every resource by namespace under this name already. */
  static final String NAMESPACE_INDEX =
      io.fabric8.kubernetes.client.informers.cache.Cache.NAMESPACE_INDEX;

  private static final Logger LOG = LoggerFactory.getLogger(HarborRobotReconciler.class);

  private final HarborSessions sessions;
  private final EventRecorder events;
  private final RobotMetrics metrics;
  private final CredentialChecks checks;
  private final Clock clock;
  private final Duration retryBackoff;
  private final Duration resyncPeriod;
  private final ValidatedSpecs validatedSpecs = new ValidatedSpecs(SpecValidator::problems);

  private InformerEventSource<Secret, HarborRobot> secretSource;
  private InformerEventSource<HarborConnection, HarborRobot> connectionSource;
  private InformerEventSource<ClusterHarborConnection, HarborRobot> clusterConnectionSource;
  private InformerEventSource<Namespace, HarborRobot> namespaceSource;
  private InformerEventSource<ServiceAccount, HarborRobot> serviceAccountSource;
  private PullSecretLinks pullSecretLinks;
  private ConnectionResolver resolver;
  private RobotSync sync;
  private CredentialSecretStore secrets;

  public HarborRobotReconciler(
      HarborSessions sessions,
      EventRecorder events,
      RobotMetrics metrics,
      CredentialChecks checks,
      Clock clock,
      Duration retryBackoff,
      Duration resyncPeriod) {
    this.sessions = sessions;
    this.events = events;
    this.metrics = metrics;
    this.checks = checks;
    this.clock = clock;
    this.retryBackoff = retryBackoff;
    this.resyncPeriod = resyncPeriod;
  }

  @Override
  public List<EventSource<?, HarborRobot>> prepareEventSources(
      EventSourceContext<HarborRobot> context) {
    // Only Secrets labelled as ours are watched and cached; the cluster's other Secrets are not.
    // A credential Secret appearing is news for no robot: it is the operator's own create, or one
    // of the informer's initial list, which at start-up re-queued every robot already being
    // reconciled for a second pass. Its changes and its deletion are news.
    secretSource =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Secret.class, HarborRobot.class)
                .withName("credential-secrets")
                .withLabelSelector(CredentialSecrets.MANAGED_SELECTOR)
                .withOnAddFilter(secret -> false)
                .withSecondaryToPrimaryMapper(Mappers.fromOwnerReferences(HarborRobot.class))
                .build(),
            context);
    // A connection change (URL, CA, credentials reference, access rules, status) re-reconciles
    // the robots using it; a ClusterHarborConnection also those that use the default one, and a
    // namespace's labels (access rules select by them) those in that namespace.
    context.getPrimaryCache().addIndexer(CONNECTION_INDEX, ConnectionResolver::indexKeys);
    context.getPrimaryCache().addIndexer(RobotClaims.INDEX, RobotClaims::indexKeys);
    connectionSource =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(HarborConnection.class, HarborRobot.class)
                .withName("connections")
                .withSecondaryToPrimaryMapper(
                    connection ->
                        robotsBy(
                            context,
                            CONNECTION_INDEX,
                            ResolvedConnection.NAMESPACED
                                + "/"
                                + connection.getMetadata().getNamespace()
                                + "/"
                                + connection.getMetadata().getName()))
                .build(),
            context);
    clusterConnectionSource =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(ClusterHarborConnection.class, HarborRobot.class)
                .withName("cluster-connections")
                .withWatchAllNamespaces()
                .withSecondaryToPrimaryMapper(
                    connection -> {
                      Set<ResourceID> robots =
                          new HashSet<>(
                              robotsBy(
                                  context,
                                  CONNECTION_INDEX,
                                  ResolvedConnection.CLUSTER
                                      + "/"
                                      + connection.getMetadata().getName()));
                      robots.addAll(
                          robotsBy(context, CONNECTION_INDEX, ConnectionResolver.DEFAULT_KEY));
                      return robots;
                    })
                .build(),
            context);
    namespaceSource =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Namespace.class, HarborRobot.class)
                .withName("namespaces")
                .withWatchAllNamespaces()
                .withSecondaryToPrimaryMapper(
                    namespace ->
                        robotsBy(context, NAMESPACE_INDEX, namespace.getMetadata().getName()))
                .build(),
            context);
    // ServiceAccounts named in imagePullServiceAccounts: one created later gets linked at once.
    context.getPrimaryCache().addIndexer(PULL_ACCOUNT_INDEX, HarborRobotReconciler::pullAccounts);
    serviceAccountSource =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(ServiceAccount.class, HarborRobot.class)
                .withName("service-accounts")
                .withSecondaryToPrimaryMapper(
                    sa ->
                        robotsBy(
                            context,
                            PULL_ACCOUNT_INDEX,
                            sa.getMetadata().getNamespace() + "/" + sa.getMetadata().getName()))
                .build(),
            context);
    pullSecretLinks =
        new PullSecretLinks(
            context.getClient(),
            (namespace, name) -> serviceAccountSource.get(new ResourceID(name, namespace)),
            namespace -> serviceAccountSource.list(namespace).toList());
    // A connection the informers do not hold is looked for in the API server before it is
    // reported missing: it may be newer than the cache, or the informers already stopped while
    // the operator shuts down and the last reconciles finish.
    KubernetesClient client = context.getClient();
    resolver =
        new ConnectionResolver(
            (namespace, name) ->
                connectionSource
                    .get(new ResourceID(name, namespace))
                    .or(
                        () ->
                            Optional.ofNullable(
                                client
                                    .resources(HarborConnection.class)
                                    .inNamespace(namespace)
                                    .withName(name)
                                    .get())),
            name ->
                clusterConnectionSource
                    .get(new ResourceID(name))
                    .or(
                        () ->
                            Optional.ofNullable(
                                client
                                    .resources(ClusterHarborConnection.class)
                                    .withName(name)
                                    .get())),
            () -> {
              List<ClusterHarborConnection> cached = clusterConnectionSource.list().toList();
              return cached.isEmpty()
                  ? client.resources(ClusterHarborConnection.class).list().getItems()
                  : cached;
            },
            // A namespace the informer has not seen yet is read from the API server: its labels
            // decide access, and "no labels" could match a rule written as an exclusion.
            name ->
                namespaceSource
                    .get(new ResourceID(name))
                    .or(
                        () ->
                            Optional.ofNullable(
                                context.getClient().namespaces().withName(name).get())));
    secrets = new CredentialSecretStore(context.getClient(), secretSource);
    sync = new RobotSync(secrets, events, metrics, checks, clock);
    return List.of(
        secretSource,
        connectionSource,
        clusterConnectionSource,
        namespaceSource,
        serviceAccountSource);
  }

  private static Set<ResourceID> robotsBy(
      EventSourceContext<HarborRobot> context, String index, String key) {
    return context.getPrimaryCache().byIndex(index, key).stream()
        .map(ResourceID::fromResource)
        .collect(Collectors.toSet());
  }

  @Override
  public UpdateControl<HarborRobot> reconcile(HarborRobot cr, Context<HarborRobot> context) {
    HarborRobotStatus status = copyOf(cr.getStatus());
    List<String> problems = validatedSpecs.problems(cr);
    if (!problems.isEmpty()) {
      return report(
          cr,
          context,
          status,
          new ReconcileProblem(Reasons.INVALID_SPEC, String.join("; ", problems), false));
    }
    status.setConnection(ConnectionResolver.describe(cr));
    ResolvedConnection connection;
    try {
      connection = resolver.resolve(cr);
      status.setConnection(connection.display());
      // Before anything else, and before any request to Harbor: may this namespace use it?
      resolver.checkAccess(cr, connection);
    } catch (ReconcileProblem p) {
      return report(cr, context, status, p);
    }
    Optional<HarborRobot> older = rival(cr, context);
    if (older.isPresent()) {
      return report(
          cr,
          context,
          status,
          new ReconcileProblem(
              Reasons.ROBOT_CONFLICT,
              "HarborRobot "
                  + older.get().getMetadata().getNamespace()
                  + "/"
                  + older.get().getMetadata().getName()
                  + " manages (or claimed first) robot "
                  + cr.effectiveRobotName()
                  + " in "
                  + DesiredRobot.of(cr).scopeDescription()
                  + " of the same Harbor; this one leaves it alone",
              false));
    }
    try {
      HarborSession session = sessions.sessionFor(cr, connection);
      RobotSync.Outcome outcome = sync.sync(cr, session);
      removeSecretLeftBehind(cr);
      linkPullSecret(cr);
      Robot robot = outcome.robot();
      status.setSecretName(cr.effectiveSecretName());
      status.setRobotId(robot.id());
      status.setRobotName(robot.name());
      status.setExpiresAt(
          RotationPlan.expiry(robot) == null ? null : RotationPlan.expiry(robot).toString());
      status.setLastRotationTime(
          outcome.rotatedAt() == null ? null : outcome.rotatedAt().toString());
      status.setNextRotationTime(
          outcome.nextRotation() == null ? null : outcome.nextRotation().toString());
      setReady(cr, status, true, outcome.reason(), outcome.message());
      patchStatus(cr, context, status);
      return UpdateControl.<HarborRobot>noUpdate()
          .rescheduleAfter(nextReconcile(cr, outcome.nextRotation()));
    } catch (ReconcileProblem p) {
      if (p.retryable()) {
        throw p;
      }
      return report(cr, context, status, p);
    } catch (HarborException e) {
      ReconcileProblem p = ReconcileProblem.fromHarbor(e);
      if (e.kind() == HarborException.Kind.UNAUTHORIZED) {
        sessions.invalidate(cr);
      }
      if (e.retryAfter().isPresent()) {
        // Harbor said when to come back (429/503 with Retry-After): exactly then, not earlier.
        // Clamped: a Retry-After of 0 must not spin, and a far-off one must not outlast a resync.
        Duration wait = e.retryAfter().get();
        wait = wait.compareTo(retryBackoff) < 0 ? retryBackoff : wait;
        wait = wait.compareTo(resyncPeriod) > 0 ? resyncPeriod : wait;
        return report(cr, context, status, p).rescheduleAfter(wait);
      }
      if (p.retryable()) {
        throw p;
      }
      return report(cr, context, status, p);
    }
  }

  /**
   * When to look at a healthy robot again: at its next rotation (or credential check, when checks
   * are more frequent than resyncs) if one comes before its next resync, else at its next resync
   * (which bounds how long drift made by hand in Harbor lasts). Resyncs fall on the same moments
   * for every robot of a project, one resync period apart (each project at its own offset): their
   * reconciles then read the robots from one listing of the project (see {@link
   * io.harborrobot.operator.harbor.ListingHarborClient}).
   */
  Duration nextReconcile(HarborRobot cr, Instant nextRotation) {
    Instant now = clock.instant();
    Duration wait = Duration.between(now, nextResync(resyncGroup(cr), now, resyncPeriod));
    if (checks.period().compareTo(resyncPeriod) < 0) {
      // Checks more frequent than resyncs need wake-ups of their own; otherwise a check is made
      // at the first resync after it is due, which costs no extra listing of the project.
      for (Instant at : checks.nextDue(cr.getMetadata().getUid()).map(List::of).orElse(List.of())) {
        wait = earlier(wait, Duration.between(now, at));
      }
    }
    if (nextRotation != null) {
      wait = earlier(wait, Duration.between(now, nextRotation));
    }
    // A moment already past (a clock that jumped, a rotation just due) is handled soon, not in a
    // loop: never sooner than the retry backoff.
    return wait.compareTo(retryBackoff) < 0 ? retryBackoff : wait;
  }

  /** The robots that resync together: those whose robots one listing of a project answers. */
  private static String resyncGroup(HarborRobot cr) {
    String project = cr.getSpec() == null ? null : cr.getSpec().getProject();
    return cr.getMetadata().getNamespace() + "/" + (project == null ? "" : project);
  }

  /**
   * The first resync moment of {@code group} after {@code now}: the moments are {@code period}
   * apart, at an offset within the period that the group's name decides, so that groups spread over
   * the period.
   */
  static Instant nextResync(String group, Instant now, Duration period) {
    long periodMillis = Math.max(1, period.toMillis());
    long offset = Math.floorMod(group.hashCode() * 0x9E3779B97F4A7C15L, periodMillis);
    long nowMillis = now.toEpochMilli();
    return Instant.ofEpochMilli(
        Math.floorDiv(nowMillis - offset, periodMillis) * periodMillis + offset + periodMillis);
  }

  private static Duration earlier(Duration a, Duration b) {
    return b.compareTo(a) < 0 ? b : a;
  }

  /**
   * Which changes to a HarborRobot are worth a reconcile: a new generation (the spec), a new value
   * of the rotate annotation, deletion, or finalizers. The operator's own status writes are not.
   */
  public static boolean worthReconciling(HarborRobot before, HarborRobot after) {
    return !Objects.equals(
            before.getMetadata().getGeneration(), after.getMetadata().getGeneration())
        || !Objects.equals(rotateRequest(before), rotateRequest(after))
        || !Objects.equals(
            before.getMetadata().getDeletionTimestamp(), after.getMetadata().getDeletionTimestamp())
        || !Objects.equals(
            before.getMetadata().getFinalizers(), after.getMetadata().getFinalizers());
  }

  private static String rotateRequest(HarborRobot robot) {
    return robot.getMetadata().getAnnotations() == null
        ? null
        : robot.getMetadata().getAnnotations().get(RotationPlan.ROTATE_ANNOTATION);
  }

  /** Another HarborRobot that has the first claim on this one's Harbor robot, if any. */
  private Optional<HarborRobot> rival(HarborRobot cr, Context<HarborRobot> context) {
    return RobotClaims.rankedBefore(
        cr, key -> context.getPrimaryCache().byIndex(RobotClaims.INDEX, key), this::harborUrl);
  }

  /** The URL of the Harbor a HarborRobot's connection points at, when it can be resolved. */
  private Optional<String> harborUrl(HarborRobot robot) {
    try {
      return Optional.ofNullable(resolver.resolve(robot).spec()).map(spec -> spec.getUrl());
    } catch (ReconcileProblem p) {
      return Optional.empty();
    }
  }

  /** Transient failures: Ready=False with the reason, then JOSDK's retry with backoff. */
  @Override
  public ErrorStatusUpdateControl<HarborRobot> updateErrorStatus(
      HarborRobot cr, Context<HarborRobot> context, Exception e) {
    ReconcileProblem problem = asProblem(e);
    HarborRobotStatus status = copyOf(cr.getStatus());
    boolean changed = setReady(cr, status, false, problem.reason(), problem.getMessage());
    if (changed) {
      events.warning(cr, problem.reason(), problem.getMessage());
    }
    LOG.warn(
        "{}/{}: {} {}",
        cr.getMetadata().getNamespace(),
        cr.getMetadata().getName(),
        problem.reason(),
        problem.detail());
    patchStatus(cr, context, status);
    return ErrorStatusUpdateControl.noStatusUpdate();
  }

  @Override
  public DeleteControl cleanup(HarborRobot cr, Context<HarborRobot> context) {
    checks.forget(cr.getMetadata().getUid());
    validatedSpecs.forget(cr.getMetadata().getUid());
    String who = cr.getMetadata().getNamespace() + "/" + cr.getMetadata().getName();
    if (cr.getSpec() != null && cr.getSpec().getDeletionPolicy() == DeletionPolicy.Orphan) {
      events.normal(cr, Reasons.ORPHANED, "Kept the robot in Harbor (deletionPolicy Orphan)");
      deleteOwnedSecret(cr);
      return DeleteControl.defaultDelete();
    }
    if (!cr.readProblems().isEmpty() && sync.mayOwnRobot(cr)) {
      // Part of the spec was set aside when reading it: its deletionPolicy, project or connection
      // may be among what was lost, and a robot is not deleted on a guess.
      events.warning(
          cr,
          Reasons.ORPHANED,
          "Left robot "
              + cr.effectiveRobotName()
              + " in Harbor: this operator could not read the whole spec ("
              + String.join("; ", cr.readProblems())
              + ")");
      deleteOwnedSecret(cr);
      sessions.forget(cr);
      return DeleteControl.defaultDelete();
    }
    Optional<HarborRobot> rival = rival(cr, context);
    if (rival.isPresent()) {
      // The robot is another HarborRobot's: whatever this one recorded, it must not delete it.
      events.normal(
          cr,
          Reasons.ORPHANED,
          "Left robot "
              + cr.effectiveRobotName()
              + " in Harbor: HarborRobot "
              + rival.get().getMetadata().getNamespace()
              + "/"
              + rival.get().getMetadata().getName()
              + " manages it");
      deleteOwnedSecret(cr);
      return DeleteControl.defaultDelete();
    }
    try {
      boolean recorded = sync.mayOwnRobot(cr);
      Optional<HarborSession> usable =
          recorded ? sessionForCleanup(cr) : sessionForUnrecordedCreate(cr);
      if (!recorded && usable.isEmpty()) {
        // Nothing was ever created for this resource: a missing connection or an invalid spec
        // must not hold the deletion up.
        deleteOwnedSecret(cr);
        return DeleteControl.defaultDelete();
      }
      if (usable.isEmpty()) {
        // Access was withdrawn: the operator makes no request for this namespace any more, not
        // even a deletion. The robot stays in Harbor for an administrator to remove.
        events.warning(
            cr,
            Reasons.ORPHANED,
            "This namespace may no longer use its connection, so the robot was left in Harbor");
        deleteOwnedSecret(cr);
        sessions.forget(cr);
        return DeleteControl.defaultDelete();
      }
      HarborSession session = usable.get();
      Optional<Robot> owned = sync.ownedRobot(cr, session);
      if (owned.isPresent()) {
        long robotId = owned.get().id();
        boolean existed = session.client().deleteRobot(robotId);
        events.normal(
            cr,
            Reasons.DELETED,
            existed
                ? "Deleted robot " + owned.get().name() + " (id " + robotId + ") in Harbor"
                : "Robot " + robotId + " was already gone from Harbor");
      }
      deleteOwnedSecret(cr);
      sessions.forget(cr);
      return DeleteControl.defaultDelete();
    } catch (ReconcileProblem | HarborException e) {
      ReconcileProblem problem = asProblem(e);
      HarborRobotStatus status = copyOf(cr.getStatus());
      String message =
          "Cannot delete the robot in Harbor yet: "
              + problem.getMessage()
              + ". The finalizer stays until it succeeds (or set deletionPolicy: Orphan)";
      if (setReady(cr, status, false, problem.reason(), message)) {
        events.warning(cr, Reasons.DELETING, message);
      }
      LOG.warn("{}: {}", who, message);
      try {
        patchStatus(cr, context, status);
      } catch (KubernetesClientException statusFailure) {
        LOG.warn("{}: could not update status while deleting: {}", who, statusFailure.getMessage());
      }
      return DeleteControl.noFinalizerRemoval().rescheduleAfter(retryBackoff);
    }
  }

  /**
   * For a resource that recorded nothing: a create is sent before its Secret is written, so when
   * the operator stopped in between, Harbor holds a robot carrying this resource's token that only
   * a lookup finds. The session to look with, or empty when the spec could not have reached Harbor
   * (invalid, no usable connection, not allowed) or Harbor cannot be reached now: the deletion is
   * not held up for a robot that almost certainly does not exist.
   */
  private Optional<HarborSession> sessionForUnrecordedCreate(HarborRobot cr) {
    if (!SpecValidator.problems(cr).isEmpty()) {
      return Optional.empty();
    }
    try {
      ResolvedConnection connection = resolver.resolve(cr);
      resolver.checkAccess(cr, connection);
      return Optional.of(sessions.sessionFor(cr, connection));
    } catch (ReconcileProblem p) {
      return Optional.empty();
    }
  }

  /**
   * The connection's session, or when the connection or its credentials are already gone (a
   * namespace being deleted takes them all at once) the last session this operator used for it.
   * Empty when the namespace may no longer use the connection.
   */
  private Optional<HarborSession> sessionForCleanup(HarborRobot cr) {
    try {
      ResolvedConnection connection = resolver.resolve(cr);
      resolver.checkAccess(cr, connection);
      return Optional.of(sessions.sessionFor(cr, connection));
    } catch (ReconcileProblem p) {
      if (Reasons.NOT_ALLOWED.equals(p.reason())) {
        return Optional.empty();
      }
      // A namespace being deleted takes its HarborConnection and credentials with it: the last
      // session of that same HarborConnection may still clean up. Never for another connection
      // than the one the spec names, and never for a ClusterHarborConnection (whose removal
      // is the platform team's, and whose access the spec could otherwise dodge).
      String named = ConnectionResolver.indexKeys(cr).get(0);
      if ((Reasons.CONNECTION_NOT_FOUND.equals(p.reason())
              || Reasons.INVALID_CONNECTION.equals(p.reason()))
          && named.startsWith(ResolvedConnection.NAMESPACED + "/")) {
        return Optional.of(sessions.lastSession(cr, named).orElseThrow(() -> p));
      }
      throw p;
    }
  }

  /**
   * Puts the Secret into the ServiceAccounts the spec names. A refusal there (an admission policy,
   * RBAC) is reported but does not hide the robot's own state: its credential works regardless.
   */
  private void linkPullSecret(HarborRobot cr) {
    try {
      pullSecretLinks.link(
          cr.getMetadata().getNamespace(),
          cr.effectiveSecretName(),
          formerSecretNames(cr),
          pullAccounts(cr.getSpec()));
    } catch (KubernetesClientException e) {
      String message =
          "Could not update the imagePullSecrets of the ServiceAccounts in"
              + " spec.imagePullServiceAccounts: "
              + e.getMessage();
      events.warning(cr, Reasons.PULL_SECRET_LINK_FAILED, message);
      LOG.warn("{}/{}: {}", cr.getMetadata().getNamespace(), cr.getMetadata().getName(), message);
    }
  }

  /** "namespace/name" of each ServiceAccount a HarborRobot wants its Secret in. */
  private static List<String> pullAccounts(HarborRobot robot) {
    return pullAccounts(robot.getSpec()).stream()
        .map(name -> robot.getMetadata().getNamespace() + "/" + name)
        .toList();
  }

  private static List<String> pullAccounts(HarborRobotSpec spec) {
    return spec == null || spec.getImagePullServiceAccounts() == null
        ? List.of()
        : spec.getImagePullServiceAccounts();
  }

  /** Names the Secret had before (status), when the spec has renamed it. */
  private static List<String> formerSecretNames(HarborRobot cr) {
    String previous = cr.getStatus() == null ? null : cr.getStatus().getSecretName();
    return previous == null || previous.equals(cr.effectiveSecretName())
        ? List.of()
        : List.of(previous);
  }

  private void deleteOwnedSecret(HarborRobot cr) {
    // Out of the ServiceAccounts first: a pull secret that names no Secret fails pulls loudly.
    List<String> names = new java.util.ArrayList<>(formerSecretNames(cr));
    names.add(cr.effectiveSecretName());
    pullSecretLinks.unlinkAll(cr.getMetadata().getNamespace(), names);
    // Garbage collection would remove it too (owner reference); deleting it now also covers
    // clusters, like the sandbox, without a garbage collector.
    secrets.deleteOwned(cr, cr.effectiveSecretName());
    removeSecretLeftBehind(cr);
  }

  private void removeSecretLeftBehind(HarborRobot cr) {
    String previous = cr.getStatus() == null ? null : cr.getStatus().getSecretName();
    if (previous != null && !previous.equals(cr.effectiveSecretName())) {
      secrets.deleteOwned(cr, previous);
    }
  }

  private UpdateControl<HarborRobot> report(
      HarborRobot cr, Context<HarborRobot> context, HarborRobotStatus status, ReconcileProblem p) {
    if (setReady(cr, status, false, p.reason(), p.getMessage())) {
      events.warning(cr, p.reason(), p.getMessage());
      LOG.warn(
          "{}/{}: {} {}",
          cr.getMetadata().getNamespace(),
          cr.getMetadata().getName(),
          p.reason(),
          p.getMessage());
    }
    patchStatus(cr, context, status);
    return UpdateControl.noUpdate();
  }

  /** Sets Ready; returns whether reason or message changed (to avoid repeating Events). */
  private boolean setReady(
      HarborRobot cr, HarborRobotStatus status, boolean ready, String reason, String message) {
    Optional<Condition> before = Conditions.find(status.getConditions(), Conditions.READY);
    Long generation = cr.getMetadata().getGeneration();
    status.setObservedGeneration(generation);
    status.setConditions(
        Conditions.set(
            status.getConditions(),
            Conditions.READY,
            ready,
            reason,
            message,
            generation,
            clock.instant()));
    return before.isEmpty()
        || !Objects.equals(before.get().getReason(), reason)
        || !Objects.equals(before.get().getMessage(), message);
  }

  private void patchStatus(HarborRobot cr, Context<HarborRobot> context, HarborRobotStatus status) {
    // A HarborRobot that left the cache meanwhile (deleted, or out of this shard's selector) was
    // forgotten when it left: reporting it now would leave its series behind for good.
    ResourceID id = ResourceID.fromResource(cr);
    if (context.getPrimaryCache().get(id).isPresent()) {
      metrics.observed(cr, status);
    } else {
      metrics.forget(id);
    }
    if (status.equals(cr.getStatus())) {
      return;
    }
    LOG.debug(
        "{}/{}: status -> {} (from resourceVersion {})",
        cr.getMetadata().getNamespace(),
        cr.getMetadata().getName(),
        Conditions.find(status.getConditions(), Conditions.READY).orElse(null),
        cr.getMetadata().getResourceVersion());
    HarborRobot fresh = new HarborRobot();
    fresh.setMetadata(cr.getMetadata());
    fresh.setSpec(cr.getSpec());
    fresh.setStatus(status);
    try {
      PrimaryUpdateAndCacheUtils.updateStatusAndCacheResource(
          fresh,
          context,
          r -> {
            r.setStatus(status);
            return r;
          });
    } catch (OperatorException e) {
      // JOSDK gives up on a status write after conflicts, or when its cache does not show the
      // newer version in time: a Kubernetes-side problem, retried like one.
      throw new ReconcileProblem(
          Reasons.KUBERNETES_ERROR, "Could not write the status: " + e.getMessage(), true, e);
    }
  }

  private static ReconcileProblem asProblem(Exception e) {
    // JOSDK hands over what the reconcile threw, possibly wrapped (its metrics wrap it in an
    // OperatorException): the first cause that says what went wrong decides.
    Throwable cause = e;
    for (int depth = 0; cause != null && depth < 16; depth++, cause = cause.getCause()) {
      if (cause instanceof ReconcileProblem p) {
        return p;
      }
      if (cause instanceof HarborException h) {
        return ReconcileProblem.fromHarbor(h);
      }
      if (cause instanceof KubernetesClientException k) {
        return new ReconcileProblem(
            Reasons.KUBERNETES_ERROR, "Kubernetes API call failed: " + k.getMessage(), true, k);
      }
    }
    return new ReconcileProblem(
        Reasons.HARBOR_ERROR, e.getClass().getSimpleName() + ": " + e.getMessage(), true, e);
  }

  private static HarborRobotStatus copyOf(HarborRobotStatus status) {
    HarborRobotStatus copy = new HarborRobotStatus();
    if (status == null) {
      return copy;
    }
    copy.setObservedGeneration(status.getObservedGeneration());
    copy.setRobotId(status.getRobotId());
    copy.setRobotName(status.getRobotName());
    copy.setConnection(status.getConnection());
    copy.setSecretName(status.getSecretName());
    copy.setExpiresAt(status.getExpiresAt());
    copy.setLastRotationTime(status.getLastRotationTime());
    copy.setNextRotationTime(status.getNextRotationTime());
    copy.setConditions(
        status.getConditions() == null ? List.of() : List.copyOf(status.getConditions()));
    return copy;
  }
}
