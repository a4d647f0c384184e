package io.harborrobot.operator.ops;

import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/** The registry behind /metrics. */
public final class OperatorMetrics {

  /**
   * JOSDK tags its reconcile counters with the retry attempt, which has no bound for a resource
   * that keeps failing (the operator retries forever, with backoff): attempts past {@value
   * #RETRY_TAG_LIMIT} share one value, so a failing robot cannot grow the number of series.
   */
  static final int RETRY_TAG_LIMIT = 5;

  static final String RETRY_TAG = "reconciliations.retries.number";

  private OperatorMetrics() {}

  /** A Prometheus registry with the operator's bounds on tag values. */
  public static PrometheusMeterRegistry newRegistry() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().meterFilter(boundedRetryNumbers());
    return registry;
  }

  /** Adds the JVM's memory, GC, threads, CPU and uptime; returns what must be closed at the end. */
  public static AutoCloseable bindJvmMetrics(PrometheusMeterRegistry registry) {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    return gc;
  }

  static MeterFilter boundedRetryNumbers() {
    return MeterFilter.replaceTagValues(
        RETRY_TAG,
        attempt -> {
          try {
            return Integer.parseInt(attempt) < RETRY_TAG_LIMIT ? attempt : RETRY_TAG_LIMIT + "+";
          } catch (NumberFormatException e) {
            return attempt;
          }
        });
  }
}
