package io.harborrobot.operator.harbor;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The Harbor client's Micrometer meters. Every tag value comes from a small fixed set (connection
 * names, HTTP methods, route templates, status codes, kinds): never a robot name, an id or a URL.
 *
 * <ul>
 *   <li>{@value #REQUESTS} (timer, histogram of 12 buckets from 10 ms to 60 s): one per HTTP
 *       exchange actually sent, retries and pagination pages included; tags {@code connection,
 *       method, route, status} where status is the HTTP code or {@value #IO_ERROR} when no response
 *       came.
 *   <li>{@value #RETRIES} (counter): repeated attempts; tags {@code connection, method, route,
 *       reason} where reason is the failure kind ({@code server_error}, {@code rate_limited},
 *       {@code unreachable}).
 *   <li>{@value #THROTTLED} (counter): calls that had to wait before being sent; tags {@code
 *       connection, limiter} = {@code rate}, {@code concurrency} or {@code login_lockout}.
 * </ul>
 */
final class ClientMetrics {

  static final String REQUESTS = "harbor.client.requests";
  static final String RETRIES = "harbor.client.retries";
  static final String THROTTLED = "harbor.client.throttled";
  static final String IO_ERROR = "io_error";

  static final String LIMITER_RATE = "rate";
  static final String LIMITER_CONCURRENCY = "concurrency";
  static final String LIMITER_LOGIN_LOCKOUT = "login_lockout";

  private final Meter.MeterProvider<Timer> requests;
  private final Meter.MeterProvider<Counter> retries;
  private final Meter.MeterProvider<Counter> throttled;

  ClientMetrics(MeterRegistry registry) {
    Objects.requireNonNull(registry, "registry");
    this.requests =
        Timer.builder(REQUESTS)
            .description("Harbor API requests sent by the operator, by route template and status")
            // A dozen fixed buckets, not Micrometer's ~60 percentile buckets: each connection,
            // route, method and status has its own histogram, so the bucket count multiplies.
            .serviceLevelObjectives(
                Duration.ofMillis(10),
                Duration.ofMillis(25),
                Duration.ofMillis(50),
                Duration.ofMillis(100),
                Duration.ofMillis(250),
                Duration.ofMillis(500),
                Duration.ofSeconds(1),
                Duration.ofMillis(2500),
                Duration.ofSeconds(5),
                Duration.ofSeconds(10),
                Duration.ofSeconds(30),
                Duration.ofSeconds(60))
            .withRegistry(registry);
    this.retries =
        Counter.builder(RETRIES)
            .description("Harbor API calls repeated after a transient failure")
            .withRegistry(registry);
    this.throttled =
        Counter.builder(THROTTLED)
            .description("Harbor API calls that waited for a client-side limit before being sent")
            .withRegistry(registry);
  }

  void request(String connection, String method, String route, String status, long nanos) {
    requests
        .withTags("connection", connection, "method", method, "route", route, "status", status)
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  void retry(String connection, String method, String route, HarborException.Kind reason) {
    retries
        .withTags(
            "connection",
            connection,
            "method",
            method,
            "route",
            route,
            "reason",
            reason.name().toLowerCase(Locale.ROOT))
        .increment();
  }

  void throttled(String connection, String limiter) {
    throttled.withTags("connection", connection, "limiter", limiter).increment();
  }
}
