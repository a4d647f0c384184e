package io.harborrobot.operator.harbor;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What the clients of one connection share, whichever client instance makes the call: the rate
 * limit ({@link HarborEndpoint#requestsPerSecond()}), the concurrency cap ({@link
 * HarborEndpoint#maxConcurrentRequests()}) and the usernames Harbor has just locked after a failed
 * login. Owned by {@link OkHttpHarborClientFactory}, one per {@link HarborEndpoint#connection()},
 * so that a client re-created for the same connection (after a credential change or a 401) shares
 * them with the old instances still finishing their calls.
 *
 * <p>A call takes a concurrency slot first and then a rate permit, and is sent at once: the rate is
 * therefore kept at the moment requests leave, even when calls queue for slots. The slot is held
 * until the response is read, and never during a backoff or lockout wait.
 *
 * <p>resilience4j's {@link RateLimiter} hands out permits per fixed cycle (here one per {@link
 * #permitInterval}). A permit taken at once, late in its cycle, could be followed almost at once by
 * the next cycle's: so after a permit granted without waiting, the caller also reserves the next
 * one and leaves it unused ({@link OkHttpHarborClient}). Consecutive requests are then always at
 * least one interval apart, and no second at Harbor sees more than {@code requestsPerSecond}.
 * Callers that queue are granted permits at cycle starts, one interval apart, and reserve nothing
 * extra: under load the full rate (less the margin) is used.
 */
final class ConnectionGuard {

  /** The permit interval is this much longer than {@code 1/requestsPerSecond}. */
  static final double RATE_MARGIN = 1.05;

  /** Above this many remembered lockouts, expired ones are dropped. */
  private static final int LOCKOUT_PURGE_THRESHOLD = 1000;

  /** The limits in force and the resilience4j objects that enforce them; replaced as a whole. */
  record Limits(
      double requestsPerSecond, int maxConcurrentRequests, RateLimiter rate, Bulkhead slots) {}

  private final String connection;
  private final Duration maxQueueWait;
  private final Clock clock;
  private final Duration lockout;
  private final Duration lockoutJitter;
  private final Map<String, Long> lockedUntilMillis = new ConcurrentHashMap<>();
  private volatile Limits limits;

  ConnectionGuard(
      String connection, double requestsPerSecond, int maxConcurrent, ClientSettings s) {
    this.connection = connection;
    this.maxQueueWait = s.maxQueueWait();
    this.clock = s.clock();
    this.lockout = s.loginLockout();
    this.lockoutJitter = s.loginLockoutJitter();
    this.limits = build(requestsPerSecond, maxConcurrent);
  }

  String connection() {
    return connection;
  }

  Limits limits() {
    return limits;
  }

  /**
   * Applies new limits when they differ from the ones in force. Calls already holding a slot of the
   * old cap finish under it; every later call, from any client of the connection, uses the new one.
   */
  synchronized ConnectionGuard adjust(double requestsPerSecond, int maxConcurrent) {
    Limits current = limits;
    if (current.requestsPerSecond() != requestsPerSecond
        || current.maxConcurrentRequests() != maxConcurrent) {
      limits = build(requestsPerSecond, maxConcurrent);
    }
    return this;
  }

  private Limits build(double requestsPerSecond, int maxConcurrent) {
    RateLimiter rate =
        RateLimiter.of(
            "harbor-" + connection,
            RateLimiterConfig.custom()
                .limitForPeriod(1)
                .limitRefreshPeriod(permitInterval(requestsPerSecond))
                .timeoutDuration(maxQueueWait)
                .writableStackTraceEnabled(false)
                .build());
    Bulkhead slots =
        Bulkhead.of(
            "harbor-" + connection,
            BulkheadConfig.custom()
                .maxConcurrentCalls(maxConcurrent)
                .maxWaitDuration(maxQueueWait)
                .fairCallHandlingStrategyEnabled(true)
                .writableStackTraceEnabled(false)
                .build());
    return new Limits(requestsPerSecond, maxConcurrent, rate, slots);
  }

  /**
   * One permit per interval, the interval {@value #RATE_MARGIN} times {@code 1/R}. Permits are
   * spread evenly rather than granted R at a time once a second (R at the end of one second and R
   * more at the start of the next would be 2R within one second at Harbor). The margin keeps R + 1
   * requests more than a second apart even when they reach Harbor a little unevenly (network,
   * scheduling, garbage collection): {@code requestsPerSecond} is a ceiling, not a target.
   */
  static Duration permitInterval(double requestsPerSecond) {
    return Duration.ofNanos(
        Math.max(1, Math.round(RATE_MARGIN * 1_000_000_000d / requestsPerSecond)));
  }

  /** How long calls as {@code username} must still wait after a failed login; zero if not. */
  Duration lockoutRemaining(String username) {
    Long until = lockedUntilMillis.get(username);
    if (until == null) {
      return Duration.ZERO;
    }
    long left = until - clock.millis();
    if (left <= 0) {
      lockedUntilMillis.remove(username, until);
      return Duration.ZERO;
    }
    return Duration.ofMillis(left);
  }

  /** Harbor refused {@code username}'s login and locked it: later calls wait it out. */
  void lockedOut(String username) {
    long now = clock.millis();
    long jitterMillis = lockoutJitter.toMillis();
    long jitter = jitterMillis <= 0 ? 0 : ThreadLocalRandom.current().nextLong(jitterMillis + 1);
    lockedUntilMillis.merge(username, now + lockout.toMillis() + jitter, Math::max);
    if (lockedUntilMillis.size() > LOCKOUT_PURGE_THRESHOLD) {
      lockedUntilMillis.values().removeIf(until -> until <= now);
    }
  }
}
