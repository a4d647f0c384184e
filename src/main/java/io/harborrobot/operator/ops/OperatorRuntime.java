package io.harborrobot.operator.ops;

import io.fabric8.kubernetes.client.KubernetesClient;
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
import io.javaoperatorsdk.operator.processing.retry.GenericRetry;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.time.Clock;

/** Wires the reconcilers to a Kubernetes client and a Harbor client factory, and runs them. */
public final class OperatorRuntime implements AutoCloseable {

  private final Operator operator;

  private OperatorRuntime(Operator operator) {
    this.operator = operator;
  }

  /** Starts the operator; returns once its informers have synced. */
  public static OperatorRuntime start(
      KubernetesClient kubernetes,
      HarborClientFactory harborClients,
      OperatorConfig config,
      Clock clock) {
    return start(kubernetes, harborClients, config, clock, Metrics.globalRegistry);
  }

  /** {@link #start(KubernetesClient, HarborClientFactory, OperatorConfig, Clock)} with metrics. */
  public static OperatorRuntime start(
      KubernetesClient kubernetes,
      HarborClientFactory harborClients,
      OperatorConfig config,
      Clock clock,
      MeterRegistry registry) {
    // JSON merge patches rather than server-side apply: the same code path then works on every
    // API server, including the sandbox's in-memory one, which has no server-side apply.
    Operator operator =
        new Operator(
            o ->
                o.withKubernetesClient(kubernetes)
                    .withUseSSAToPatchPrimaryResource(false)
                    .withSSABasedCreateUpdateMatchForDependentResources(false)
                    .withCloseClientOnStop(false));
    HarborSessions sessions =
        new HarborSessions(kubernetes, harborClients, clock, config.credentialsMaxAge());
    EventRecorder events = new EventRecorder(kubernetes, clock);
    HarborRobotReconciler reconciler =
        new HarborRobotReconciler(
            sessions,
            events,
            new RobotMetrics(registry),
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
    return new OperatorRuntime(operator);
  }

  public Operator operator() {
    return operator;
  }

  @Override
  public void close() {
    operator.stop();
  }
}
