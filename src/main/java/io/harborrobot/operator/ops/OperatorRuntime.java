package io.harborrobot.operator.ops;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.harborrobot.operator.config.LeaderElection;
import io.harborrobot.operator.config.OperatorConfig;
import io.harborrobot.operator.harbor.HarborClientFactory;
import io.harborrobot.operator.reconciler.ClusterHarborConnectionReconciler;
import io.harborrobot.operator.reconciler.ConnectionChecks;
import io.harborrobot.operator.reconciler.CredentialChecks;
import io.harborrobot.operator.reconciler.EventRecorder;
import io.harborrobot.operator.reconciler.HarborConnectionReconciler;
import io.harborrobot.operator.reconciler.HarborRobotReconciler;
import io.harborrobot.operator.reconciler.HarborSessions;
import io.harborrobot.operator.reconciler.RobotMetrics;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfigurationBuilder;
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
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
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
  private final AtomicBoolean leading;
  private final AtomicBoolean closing;
  private final Runnable removeGauges;
  private final Runnable releaseLease;

  private OperatorRuntime(
      Operator operator,
      AtomicBoolean leading,
      AtomicBoolean closing,
      Runnable removeGauges,
      Runnable releaseLease) {
    this.operator = operator;
    this.leading = leading;
    this.closing = closing;
    this.removeGauges = removeGauges;
    this.releaseLease = releaseLease;
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
    return start(kubernetes, harborClients, config, clock, registry, OperatorRuntime::exit);
  }

  /**
   * As above; {@code onFatal} runs when this replica must stop other than by {@link #close()}: it
   * lost the Lease, or an informer stopped for good. In production it ends the process, so that a
   * replica that lost the Lease can never reconcile alongside the new leader, and a replica blind
   * to changes does not pretend to work (the restarted pod then starts afresh, as a standby).
   */
  public static OperatorRuntime start(
      KubernetesClient kubernetes,
      HarborClientFactory harborClients,
      OperatorConfig config,
      Clock clock,
      MeterRegistry registry,
      Runnable onFatal) {
    AtomicBoolean leading = new AtomicBoolean(config.leaderElection() == null);
    AtomicBoolean closing = new AtomicBoolean();
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
                  // reconciles in flight finish before the Lease is given up (up to a bound)
                  .withReconciliationTerminationTimeout(RECONCILE_TERMINATION)
                  .withInformerStoppedHandler(
                      (informer, failure) -> {
                        if (failure != null && informer.hasSynced() && !closing.get()) {
                          LOG.error("An informer stopped for good: stopping", failure);
                          onFatal.run();
                        }
                      })
                  .withMetrics(
                      new AggregatedMetrics(
                          List.of(
                              MicrometerMetrics.withoutPerResourceMetrics(registry),
                              forgetDeletedRobots(robotMetrics))));
              config
                  .leaderElectionIfEnabled()
                  .ifPresent(
                      election ->
                          o.withLeaderElectionConfiguration(
                              leaseSettings(election, leading, closing, onFatal)));
            });
    Gauge leader =
        Gauge.builder(LEADER, leading, l -> l.get() ? 1 : 0)
            .description("1 on the replica that reconciles (the Lease holder), 0 on a standby")
            .register(registry);
    HarborSessions sessions =
        new HarborSessions(kubernetes, harborClients, clock, config.credentialsMaxAge());
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
    operator.start();
    return new OperatorRuntime(
        operator,
        leading,
        closing,
        () -> {
          registry.remove(leader);
          robotMetrics.close();
        },
        () -> config.leaderElectionIfEnabled().ifPresent(e -> releaseLease(kubernetes, e)));
  }

  private static LeaderElectionConfiguration leaseSettings(
      LeaderElection election, AtomicBoolean leading, AtomicBoolean closing, Runnable onFatal) {
    LeaderCallbacks callbacks =
        new LeaderCallbacks(
            () -> {
              LOG.info(
                  "{} is now the leader (Lease {})", election.identity(), election.leaseName());
              leading.set(true);
            },
            () -> {
              leading.set(false);
              if (!closing.get()) {
                LOG.error(
                    "{} lost the Lease {}: stopping so that only the new leader reconciles",
                    election.identity(),
                    election.leaseName());
                onFatal.run();
              }
            },
            holder -> LOG.info("Lease {} is held by {}", election.leaseName(), holder));
    LeaderElectionConfigurationBuilder builder =
        LeaderElectionConfigurationBuilder.aLeaderElectionConfiguration(election.leaseName())
            .withIdentity(election.identity())
            .withLeaseDuration(election.leaseDuration())
            .withRenewDeadline(election.renewDeadline())
            .withRetryPeriod(election.retryPeriod())
            .withLeaderCallbacks(callbacks)
            // Our callback decides: a replica being closed gives the Lease up and must not exit.
            .withExitOnStopLeading(false);
    if (election.leaseNamespace() != null && !election.leaseNamespace().isBlank()) {
      builder.withLeaseNamespace(election.leaseNamespace());
    }
    return builder.build();
  }

  /**
   * Gives the Lease up once this replica has stopped reconciling, so that a standby takes over at
   * its next try rather than after the lease duration. (JOSDK stops the elector's executor before
   * the elector could release the Lease itself.) Empties the holder as fabric8's own release does;
   * a Lease held by another replica is left alone.
   */
  private static void releaseLease(KubernetesClient kubernetes, LeaderElection election) {
    String namespace =
        election.leaseNamespace() == null ? kubernetes.getNamespace() : election.leaseNamespace();
    try {
      Lease lease = kubernetes.leases().inNamespace(namespace).withName(election.leaseName()).get();
      if (lease == null || !election.identity().equals(lease.getSpec().getHolderIdentity())) {
        return;
      }
      lease.getSpec().setHolderIdentity(null);
      lease.getSpec().setLeaseDurationSeconds(1);
      lease.getSpec().setRenewTime(ZonedDateTime.now(ZoneOffset.UTC));
      // an update with the resourceVersion read: never over a Lease a standby took meanwhile
      kubernetes.resource(lease).update();
      LOG.info("{} gave up the Lease {}", election.identity(), election.leaseName());
    } catch (RuntimeException e) {
      // a conflict (a standby took it meanwhile) or no API server: either way it expires
      LOG.warn(
          "Could not give up the Lease {} (a standby takes over when it expires): {}",
          election.leaseName(),
          e.getMessage());
    }
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

  private static void exit() {
    // Not from the calling thread itself: System.exit runs shutdown hooks, which stop the operator
    // and may wait for that thread.
    Thread exit = new Thread(() -> System.exit(1), "fatal-exit");
    exit.start();
  }

  public Operator operator() {
    return operator;
  }

  /** Whether this replica reconciles: the Lease holder, or the only replica. */
  public boolean leading() {
    return leading.get();
  }

  /** What /healthz and /readyz report. */
  public Health health() {
    return Health.of(operator.getRuntimeInfo(), closing.get());
  }

  @Override
  public void close() {
    if (closing.compareAndSet(false, true)) {
      operator.stop();
      releaseLease.run();
      removeGauges.run();
    }
  }
}
