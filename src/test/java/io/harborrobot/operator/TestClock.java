package io.harborrobot.operator;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A clock tests move by hand: either stopped at an instant ({@link #fixed}) or running with the
 * system clock plus an offset ({@link #running}), so that days can pass in a second without
 * stopping the timeouts a running operator relies on.
 */
public final class TestClock extends Clock {

  private final boolean running;
  private volatile Instant base;

  private TestClock(boolean running, Instant base) {
    this.running = running;
    this.base = base;
  }

  /** Stopped at {@code start}; only {@link #advance} moves it. */
  public static TestClock fixed(Instant start) {
    return new TestClock(false, start);
  }

  /** The system clock, until {@link #advance} puts it ahead. */
  public static TestClock running() {
    return new TestClock(true, Instant.EPOCH);
  }

  public void advance(Duration duration) {
    base = base.plus(duration);
  }

  @Override
  public Instant instant() {
    return running ? Instant.now().plus(Duration.between(Instant.EPOCH, base)) : base;
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }
}
