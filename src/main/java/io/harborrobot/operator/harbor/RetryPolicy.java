package io.harborrobot.operator.harbor;

import io.github.resilience4j.core.IntervalFunction;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * When and how long the Harbor client waits before it repeats a failed call. Only calls that are
 * safe to repeat are retried (GET, PUT with the same body, PATCH with a caller-chosen secret,
 * DELETE), and only after a failure that may go away by itself: no answer (connection refused,
 * reset, timeout), 5xx, 429. A POST is never repeated.
 *
 * <p>The wait is exponential with full jitter: before retry {@code n} (1, 2, ...) it is a random
 * duration between zero and {@code min(maxBackoff, initialBackoff * multiplier^(n-1))}. When Harbor
 * sends {@code Retry-After} (429, 503), that wait is used instead; when it is longer than {@code
 * maxRetryAfter}, the call is not repeated at all and the failure, with its {@link
 * HarborException#retryAfter()}, goes to the caller to reschedule.
 *
 * @param maxAttempts attempts in total per call, the first included; 1 turns retries off
 * @param initialBackoff the ceiling of the first wait
 * @param multiplier how much the ceiling grows with each retry
 * @param maxBackoff the largest ceiling
 * @param maxRetryAfter the longest {@code Retry-After} waited for inside a call
 */
public record RetryPolicy(
    int maxAttempts,
    Duration initialBackoff,
    double multiplier,
    Duration maxBackoff,
    Duration maxRetryAfter) {

  /** 4 attempts, 200 ms doubling up to 5 s, Retry-After up to 10 s. */
  public static final RetryPolicy DEFAULT =
      new RetryPolicy(
          4, Duration.ofMillis(200), 2.0, Duration.ofSeconds(5), Duration.ofSeconds(10));

  /** One attempt: every failure goes straight to the caller. */
  public static final RetryPolicy NONE =
      new RetryPolicy(
          1, Duration.ofMillis(200), 2.0, Duration.ofSeconds(5), Duration.ofSeconds(10));

  public RetryPolicy {
    Objects.requireNonNull(initialBackoff, "initialBackoff");
    Objects.requireNonNull(maxBackoff, "maxBackoff");
    Objects.requireNonNull(maxRetryAfter, "maxRetryAfter");
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1");
    }
    if (initialBackoff.toMillis() < 1 || maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException(
          "initialBackoff must be at least 1 ms and maxBackoff at least initialBackoff");
    }
    if (!(multiplier >= 1.0)) {
      throw new IllegalArgumentException("multiplier must be at least 1");
    }
    if (maxRetryAfter.isNegative()) {
      throw new IllegalArgumentException("maxRetryAfter must not be negative");
    }
  }

  /** The same policy with another number of attempts. */
  public RetryPolicy withMaxAttempts(int attempts) {
    return new RetryPolicy(attempts, initialBackoff, multiplier, maxBackoff, maxRetryAfter);
  }

  /** The largest wait before retry {@code retry} (1 for the first retry). */
  Duration ceiling(int retry) {
    IntervalFunction exponential =
        IntervalFunction.ofExponentialBackoff(initialBackoff, multiplier, maxBackoff);
    return Duration.ofMillis(exponential.apply(Math.max(1, retry)));
  }

  /** The wait before retry {@code retry}: uniformly random in [0, ceiling] ("full jitter"). */
  Duration backoff(int retry) {
    long ceilingMillis = ceiling(retry).toMillis();
    return Duration.ofMillis(ThreadLocalRandom.current().nextLong(ceilingMillis + 1));
  }
}
