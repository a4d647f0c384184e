package io.harborrobot.operator.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

class OperatorMetricsTest {

  @Test
  void retryAttemptsPastTheLimitShareOneSeries() {
    PrometheusMeterRegistry registry = OperatorMetrics.newRegistry();
    for (int attempt = 0; attempt < 40; attempt++) {
      Counter.builder("operator.sdk.reconciliations.started")
          .tag(OperatorMetrics.RETRY_TAG, Integer.toString(attempt))
          .register(registry)
          .increment();
    }

    assertThat(registry.find("operator.sdk.reconciliations.started").counters())
        .extracting(c -> c.getId().getTag(OperatorMetrics.RETRY_TAG))
        .containsExactlyInAnyOrder("0", "1", "2", "3", "4", "5+");
    assertThat(
            registry
                .get("operator.sdk.reconciliations.started")
                .tag(OperatorMetrics.RETRY_TAG, "5+")
                .counter()
                .count())
        .isEqualTo(35);
  }

  @Test
  void theJvmIsInTheScrape() throws Exception {
    PrometheusMeterRegistry registry = OperatorMetrics.newRegistry();
    try (AutoCloseable jvm = OperatorMetrics.bindJvmMetrics(registry)) {
      PrometheusText scrape = PrometheusText.parse(registry.scrape());
      assertThat(scrape.has("jvm_memory_used_bytes", "area=\"heap\"")).isTrue();
      assertThat(scrape.has("jvm_threads_live_threads")).isTrue();
      assertThat(scrape.has("process_uptime_seconds")).isTrue();
    }
  }
}
