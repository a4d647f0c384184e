package io.harborrobot.operator.ops;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.harborrobot.operator.api.v1alpha1.ReadProblems;
import io.harborrobot.operator.config.OperatorConfig;
import io.harborrobot.operator.harbor.HarborClientFactory;
import io.harborrobot.operator.harbor.ListingHarborClient;
import io.harborrobot.operator.reconciler.ClusterHarborConnectionReconciler;
import io.harborrobot.operator.reconciler.ConnectionChecks;
import io.harborrobot.operator.reconciler.CredentialChecks;
import io.harborrobot.operator.reconciler.EventRecorder;
import io.harborrobot.operator.reconciler.HarborConnectionReconciler;
import io.harborrobot.operator.reconciler.HarborRobotReconciler;
import io.harborrobot.operator.reconciler.HarborSessions;
import io.harborrobot.operator.reconciler.RobotMetrics;
import io.harborrobot.operator.reconciler.SpecValidator;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.Cloner;
import io.javaoperatorsdk.operator.api.monitoring.AggregatedMetrics;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.api.reconciler.Constants;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.retry.GenericRetry;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires the reconcilers to a Kubernetes client and a Harbor client factory, and runs them: alone,
 * or as one of several replicas of which only the holder of a Lease reconciles.
 */
public final class OperatorRuntime implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(OperatorRuntime.class);

  static final String LEADER = "harborrobot.leader";

  /** How long stopping waits for reconciles in flight; the rest are interrupted. */
  static final Duration RECONCILE_TERMINATION = Duration.ofSeconds(10);

  private final Operator operator;
  private final Leadership leadership;
  private final Runnable removeGauges;
  private final AtomicBoolean closed = new AtomicBoolean();

  private OperatorRuntime(Operator operator, Leadership leadership, Runnable removeGauges) {
    this.operator = operator;
    this.leadership = leadership;
    this.removeGauges = removeGauges;
  }

  /** Starts the operator; returns once its informers have synced. */
  public static OperatorRuntime start(
      KubernetesClient kubernetes,
      HarborClientFactory harborClients,
      OperatorConfig config,
      Clock clock) {
    return start(
        kubernetes,
        harborClients,
        config,
        clock,
        io.micrometer.core.instrument.Metrics.globalRegistry);
  }

  /** {@link #start(KubernetesClient, HarborClientFactory, OperatorConfig, Clock)} with metrics. */
  public static OperatorRuntime start(
      KubernetesClient kubernetes,
      HarborClientFactory harborClients,
      OperatorConfig config,
      Clock clock,
      MeterRegistry registry) {
    return start(kubernetes, harborClients, config, clock, registry, OperatorRuntime::halt);
  }

  /**
   * As above; {@code onFatal} runs when this replica must stop other than by {@link #close()}: it
   * lost the Lease, or an informer stopped for good. In production it ends the process at once,
   * without waiting for reconciles in flight, so that a replica that lost the Lease never
   * reconciles alongside the new leader (every step of a reconcile is safe to interrupt), and a
   * replica blind to changes does not pretend to work; the restarted pod starts as a standby.
   */
  public static OperatorRuntime start(
      KubernetesClient kubernetes,
      HarborClientFactory harborClients,
      OperatorConfig config,
      Clock clock,
      MeterRegistry registry,
      Runnable onFatal) {
    Leadership leadership = new Leadership(config.leaderElection(), kubernetes, onFatal);
    RobotMetrics robotMetrics = new RobotMetrics(registry);
    // JSON merge patches rather than server-side apply: the same code path then works on every
    // API server, including the sandbox's in-memory one, which has no server-side apply.
    Operator operator =
        new Operator(
            o -> {
              o.withKubernetesClient(kubernetes)
                  .withUseSSAToPatchPrimaryResource(false)
                  .withSSABasedCreateUpdateMatchForDependentResources(false)
                  .withCloseClientOnStop(false)
                  // A pass writes a Secret several times; without comparing resourceVersions the
                  // watch event of an earlier write evicts the newer version from JOSDK's
                  // temporary cache, and the next pass writes from a stale one (a 409).
                  .withParseResourceVersions(true)
                  // A copy keeps what did not fit the model, which the copy cannot re-read.
                  .withResourceCloner(keepingReadProblems(kubernetes.getKubernetesSerialization()))
                  // reconciles in flight finish before the Lease is given up (up to a bound)
                  .withReconciliationTerminationTimeout(
                      leadership.reconcileTermination(RECONCILE_TERMINATION))
                  .withInformerStoppedHandler(
                      (informer, failure) -> {
                        if (failure != null && informer.hasSynced() && !leadership.closing()) {
                          LOG.error("An informer stopped for good: stopping", failure);
                          onFatal.run();
                        }
                      })
                  .withMetrics(
                      new AggregatedMetrics(
                          List.of(
                              MicrometerMetrics.withoutPerResourceMetrics(registry),
                              forgetDeletedRobots(robotMetrics))));
              leadership.configuration().ifPresent(o::withLeaderElectionConfiguration);
            });
    Gauge leader =
        Gauge.builder(LEADER, leadership, l -> l.leading() ? 1 : 0)
            .description("1 on the replica that reconciles (the Lease holder), 0 on a standby")
            .register(registry);
    ListingHarborClient.Listings listings =
        new ListingHarborClient.Listings(clock, listingFreshFor(config.resyncPeriod()));
    HarborSessions sessions =
        new HarborSessions(
            kubernetes,
            endpoint ->
                new ListingHarborClient(
                    harborClients.create(endpoint),
                    listings,
                    endpoint.connection() + " " + endpoint.baseUrl()),
            clock,
            config.credentialsMaxAge());
    EventRecorder events = new EventRecorder(kubernetes, clock);
    HarborRobotReconciler reconciler =
        new HarborRobotReconciler(
            sessions,
            events,
            robotMetrics,
            new CredentialChecks(config.credentialCheckPeriod()),
            clock,
            config.retryInitialInterval(),
            config.resyncPeriod());
    GenericRetry retry =
        new GenericRetry()
            .setInitialInterval(config.retryInitialInterval().toMillis())
            .setIntervalMultiplier(2.0)
            .setMaxInterval(config.retryMaxInterval().toMillis())
            .withoutMaxAttempts();
    operator.register(
        reconciler,
        o -> {
          o.withReconciliationMaxInterval(config.resyncPeriod()).withRetry(retry);
          // Not generation-aware: a new value of the rotate annotation (metadata, no new
          // generation) must reach the reconciler; the operator's own status writes must not.
          o.withGenerationAware(false).withOnUpdateFilter(HarborRobotReconciler::worthReconciling);
          if (!config.robotSelector().isEmpty()) {
            // Sharding: a HarborRobot outside the selector is not even cached here.
            o.withLabelSelector(config.robotSelector());
          }
          if (config.namespaces().isEmpty()) {
            o.watchingAllNamespaces();
          } else {
            o.settingNamespaces(config.namespaces());
          }
        });
    ConnectionChecks connectionChecks =
        new ConnectionChecks(sessions, kubernetes, events, clock, config.connectionCheckPeriod());
    operator.register(
        new HarborConnectionReconciler(connectionChecks),
        o -> {
          o.withRetry(retry);
          if (config.namespaces().isEmpty()) {
            o.watchingAllNamespaces();
          } else {
            o.settingNamespaces(config.namespaces());
          }
        });
    // Cluster-scoped: one informer for the whole cluster, whatever namespaces robots are watched
    // in.
    operator.register(
        new ClusterHarborConnectionReconciler(connectionChecks),
        o -> o.withRetry(retry).watchingAllNamespaces());
    // While the informers sync: the first robots need not wait for the rule checker's set-up.
    Thread warmUp = new Thread(SpecValidator::warmUp, "spec-validator-warm-up");
    warmUp.setDaemon(true);
    warmUp.start();
    operator.start();
    return new OperatorRuntime(
        operator,
        leadership,
        () -> {
          registry.remove(leader);
          robotMetrics.close();
        });
  }

  /**
   * A HarborRobot that left the cache (deleted, or out of the watched selector) leaves no gauge.
   */
  private static Metrics forgetDeletedRobots(RobotMetrics robotMetrics) {
    return new Metrics() {
      @Override
      public void cleanupDoneFor(ResourceID id, Map<String, Object> metadata) {
        if (HarborRobotReconciler.NAME.equals(metadata.get(Constants.CONTROLLER_NAME))) {
          robotMetrics.forget(id);
        }
      }
    };
  }

  /**
   * How long a project's robot listing answers for its robots: long enough to serve every robot of
   * the project at one resync moment (they are scheduled together), short enough that the next
   * resync lists again and sees what was changed in Harbor meanwhile.
   */
  static Duration listingFreshFor(Duration resyncPeriod) {
    Duration half = resyncPeriod.dividedBy(2);
    return half.compareTo(LISTING_FRESH_FOR) < 0 ? half : LISTING_FRESH_FOR;
  }

  private static final Duration LISTING_FRESH_FOR = Duration.ofMinutes(1);

  /**
   * JOSDK's resource copies (made before each reconcile) with what reading the original set aside:
   * a copy is made from the object as read, which no longer holds the fields that did not fit.
   */
  static Cloner keepingReadProblems(KubernetesSerialization serialization) {
    return new Cloner() {
      @Override
      public <R extends HasMetadata> R clone(R object) {
        R copy = serialization.clone(object);
        if (object instanceof ReadProblems original && copy instanceof ReadProblems copied) {
          copied.recordReadProblems(original.readProblems());
        }
        return copy;
      }
    };
  }

  private static void halt() {
    // Not System.exit: its shutdown hook would wait for the reconciles in flight.
    Runtime.getRuntime().halt(1);
  }

  public Operator operator() {
    return operator;
  }

  /** Whether this replica reconciles: the Lease holder, or the only replica. */
  public boolean leading() {
    return leadership.leading();
  }

  /** What /healthz and /readyz report. */
  public Health health() {
    return Health.of(operator.getRuntimeInfo(), leadership.closing());
  }

  /** Stops reconciling, then gives the Lease up and removes this operator's gauges. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    leadership.stopping();
    try {
      operator.stop();
    } finally {
      try {
        leadership.close();
      } finally {
        removeGauges.run();
      }
    }
  }
}
