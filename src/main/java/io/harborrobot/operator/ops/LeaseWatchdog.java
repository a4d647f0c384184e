package io.harborrobot.operator.ops;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure a leader stops before another replica can take over. fabric8's elector checks its
 * renew deadline only between attempts, and one attempt against an API server that does not answer
 * can take longer than the lease lasts; this watchdog reads the Lease on its own, with short
 * timeouts and no retries, and declares the leadership lost when it could not see a renewal of its
 * own within the renew deadline, or sees another holder. The Lease's renew time is written by this
 * process, so comparing it with this process's clock involves no clock skew.
 */
final class LeaseWatchdog {

  private static final Logger LOG = LoggerFactory.getLogger(LeaseWatchdog.class);

  private final Supplier<Optional<Lease>> read;
  private final String identity;
  private final Duration renewDeadline;
  private final Clock clock;
  private final Runnable onLost;

  /** The latest renewal of its own seen (at first: when it became the leader). */
  private Instant confirmed;

  private boolean lost;

  /**
   * @param read reads the Lease (empty when it does not exist); may throw when the API server does
   *     not answer
   * @param onLost runs once, when the leadership can no longer be shown
   */
  LeaseWatchdog(
      Supplier<Optional<Lease>> read,
      String identity,
      Duration renewDeadline,
      Clock clock,
      Runnable onLost) {
    this.read = read;
    this.identity = identity;
    this.renewDeadline = renewDeadline;
    this.clock = clock;
    this.onLost = onLost;
    this.confirmed = clock.instant();
  }

  /** One look at the Lease; call it every retry period while leading. */
  synchronized void check() {
    if (lost) {
      return;
    }
    Instant now = clock.instant();
    try {
      Optional<Lease> lease = read.get();
      String holder = lease.map(l -> l.getSpec().getHolderIdentity()).orElse(null);
      if (holder != null && !holder.equals(identity)) {
        lose("the Lease is held by " + holder);
        return;
      }
      Instant renewed =
          lease
              .map(l -> l.getSpec().getRenewTime())
              .map(time -> time.toInstant())
              .orElse(Instant.MIN);
      if (identity.equals(holder) && renewed.isAfter(confirmed)) {
        confirmed = renewed;
      }
    } catch (RuntimeException e) {
      LOG.debug("Could not read the Lease: {}", e.toString());
    }
    if (confirmed.plus(renewDeadline).isBefore(now)) {
      lose("its last renewal seen is " + Duration.between(confirmed, now).toSeconds() + " s old");
    }
  }

  private void lose(String why) {
    lost = true;
    LOG.error("{} is no longer the leader: {}", identity, why);
    onLost.run();
  }
}
