package io.harborrobot.operator.harbor;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * How the Harbor clients of one {@link OkHttpHarborClientFactory} talk to Harbor: timeouts,
 * retries, how long a call may queue for its connection's rate limit and concurrency cap, and how
 * long a username is left alone after Harbor refused its login.
 *
 * @param connectTimeout TCP connect and TLS handshake, per attempt
 * @param readTimeout the longest silence while reading a response (also used for writing)
 * @param callTimeout one attempt, from DNS to the last byte of the body
 * @param retry when failed calls are repeated
 * @param maxQueueWait the longest a call waits for a slot under its connection's {@link
 *     HarborEndpoint#maxConcurrentRequests()} and then for a permit under its {@link
 *     HarborEndpoint#requestsPerSecond()}, each; past that it fails as {@link
 *     HarborException.Kind#RATE_LIMITED} with status 0, never having been sent
 * @param loginLockout how long Harbor locks a username after a failed login (1.5 s in Harbor's
 *     {@code authenticator.go}); calls with that username wait this long, plus a random part of
 *     {@code loginLockoutJitter}, before they are sent
 * @param loginLockoutJitter the random extra wait after a lockout
 * @param sleeper how backoff and lockout waits are done
 * @param clock the time used for lockouts
 */
public record ClientSettings(
    Duration connectTimeout,
    Duration readTimeout,
    Duration callTimeout,
    RetryPolicy retry,
    Duration maxQueueWait,
    Duration loginLockout,
    Duration loginLockoutJitter,
    Sleeper sleeper,
    Clock clock) {

  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
  public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(30);
  public static final Duration DEFAULT_CALL_TIMEOUT = Duration.ofSeconds(60);
  public static final Duration DEFAULT_MAX_QUEUE_WAIT = Duration.ofSeconds(30);
  public static final Duration HARBOR_LOGIN_LOCKOUT = Duration.ofMillis(1500);
  public static final Duration DEFAULT_LOGIN_LOCKOUT_JITTER = Duration.ofMillis(250);

  public ClientSettings {
    Objects.requireNonNull(connectTimeout, "connectTimeout");
    Objects.requireNonNull(readTimeout, "readTimeout");
    Objects.requireNonNull(callTimeout, "callTimeout");
    Objects.requireNonNull(retry, "retry");
    Objects.requireNonNull(maxQueueWait, "maxQueueWait");
    Objects.requireNonNull(loginLockout, "loginLockout");
    Objects.requireNonNull(loginLockoutJitter, "loginLockoutJitter");
    Objects.requireNonNull(sleeper, "sleeper");
    Objects.requireNonNull(clock, "clock");
    if (maxQueueWait.isNegative() || loginLockout.isNegative() || loginLockoutJitter.isNegative()) {
      throw new IllegalArgumentException("waits must not be negative");
    }
  }

  /**
   * Connect 10 s, read 30 s, call 60 s; {@link RetryPolicy#DEFAULT}; queue at most 30 s; 1.5 s + up
   * to 250 ms after a failed login; real time.
   */
  public static ClientSettings defaults() {
    return new ClientSettings(
        DEFAULT_CONNECT_TIMEOUT,
        DEFAULT_READ_TIMEOUT,
        DEFAULT_CALL_TIMEOUT,
        RetryPolicy.DEFAULT,
        DEFAULT_MAX_QUEUE_WAIT,
        HARBOR_LOGIN_LOCKOUT,
        DEFAULT_LOGIN_LOCKOUT_JITTER,
        Sleeper.SYSTEM,
        Clock.systemUTC());
  }

  public ClientSettings withTimeouts(Duration connect, Duration read, Duration call) {
    return new ClientSettings(
        connect, read, call, retry, maxQueueWait, loginLockout, loginLockoutJitter, sleeper, clock);
  }

  public ClientSettings withRetry(RetryPolicy policy) {
    return new ClientSettings(
        connectTimeout,
        readTimeout,
        callTimeout,
        policy,
        maxQueueWait,
        loginLockout,
        loginLockoutJitter,
        sleeper,
        clock);
  }

  public ClientSettings withMaxQueueWait(Duration wait) {
    return new ClientSettings(
        connectTimeout,
        readTimeout,
        callTimeout,
        retry,
        wait,
        loginLockout,
        loginLockoutJitter,
        sleeper,
        clock);
  }

  public ClientSettings withLoginLockout(Duration lockout, Duration jitter) {
    return new ClientSettings(
        connectTimeout,
        readTimeout,
        callTimeout,
        retry,
        maxQueueWait,
        lockout,
        jitter,
        sleeper,
        clock);
  }

  /** Waits through {@code waiter} and reads lockout time from {@code time} (tests). */
  public ClientSettings withTime(Sleeper waiter, Clock time) {
    return new ClientSettings(
        connectTimeout,
        readTimeout,
        callTimeout,
        retry,
        maxQueueWait,
        loginLockout,
        loginLockoutJitter,
        waiter,
        time);
  }
}
