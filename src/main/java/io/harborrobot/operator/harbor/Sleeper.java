package io.harborrobot.operator.harbor;

import java.time.Duration;

/**
 * How the Harbor client waits between attempts and out a login lockout. Production uses {@link
 * #SYSTEM}; tests pass one that only records the wait (and moves a test clock), so that backoff and
 * lockout can be checked without waiting. The per-connection rate limit and concurrency cap always
 * wait in real time.
 */
@FunctionalInterface
public interface Sleeper {

  /** {@link Thread#sleep}. */
  Sleeper SYSTEM =
      duration -> {
        if (duration.isNegative() || duration.isZero()) {
          return;
        }
        Thread.sleep(duration.toMillis(), duration.toNanosPart() % 1_000_000);
      };

  /** Waits for {@code duration} (zero or negative: not at all). */
  void sleep(Duration duration) throws InterruptedException;
}
