package io.harborrobot.operator.ops;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.harborrobot.operator.config.LeaderElection;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfigurationBuilder;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This replica's part in leader election: whether it leads, the callbacks java-operator-sdk's
 * elector calls, a {@link LeaseWatchdog} while it leads, and giving the Lease up when it stops.
 * Without leader election the replica always leads and none of the rest happens.
 */
final class Leadership implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Leadership.class);

  private final LeaderElection election;
  private final KubernetesClient kubernetes;
  private final AtomicBoolean leading;
  private final AtomicBoolean closing = new AtomicBoolean();
  private final AtomicBoolean fatal = new AtomicBoolean();
  private final Runnable onFatal;
  private final ScheduledExecutorService watchdogTimer;
  private final KubernetesClient watchdogClient;

  /**
   * @param election how to elect, or {@code null} for a replica that is alone
   * @param onFatal runs when the leadership is lost other than by {@link #close()}
   */
  Leadership(LeaderElection election, KubernetesClient kubernetes, Runnable onFatal) {
    this.election = election;
    this.kubernetes = kubernetes;
    this.onFatal = onFatal;
    this.leading = new AtomicBoolean(election == null);
    if (election == null) {
      watchdogTimer = null;
      watchdogClient = null;
      return;
    }
    watchdogTimer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread thread = new Thread(r, "lease-watchdog");
              thread.setDaemon(true);
              return thread;
            });
    // Its own client: requests that give up within a retry period, never repeated, so that an
    // API server that does not answer is noticed in time.
    int timeout = (int) election.retryPeriod().toMillis();
    watchdogClient =
        new KubernetesClientBuilder()
            .withConfig(
                new ConfigBuilder(kubernetes.getConfiguration())
                    .withConnectionTimeout(timeout)
                    .withRequestTimeout(timeout)
                    .withRequestRetryBackoffLimit(0)
                    .build())
            .build();
  }

  boolean leading() {
    return leading.get();
  }

  /** Whether this replica is being stopped on purpose (then losing the Lease is no fault). */
  boolean closing() {
    return closing.get();
  }

  /** What java-operator-sdk needs to run the election, when there is one. */
  Optional<LeaderElectionConfiguration> configuration() {
    if (election == null) {
      return Optional.empty();
    }
    LeaderCallbacks callbacks =
        new LeaderCallbacks(
            this::startedLeading,
            () -> lost("its elector gave the Lease up (renew deadline passed)"),
            holder -> LOG.info("Lease {} is held by {}", election.leaseName(), holder));
    LeaderElectionConfigurationBuilder builder =
        LeaderElectionConfigurationBuilder.aLeaderElectionConfiguration(election.leaseName())
            .withIdentity(election.identity())
            .withLeaseDuration(election.leaseDuration())
            .withRenewDeadline(election.renewDeadline())
            .withRetryPeriod(election.retryPeriod())
            .withLeaderCallbacks(callbacks)
            // Our callback decides: a replica being closed gives the Lease up and must not exit.
            .withExitOnStopLeading(false);
    if (election.leaseNamespace() != null && !election.leaseNamespace().isBlank()) {
      builder.withLeaseNamespace(election.leaseNamespace());
    }
    return Optional.of(builder.build());
  }

  /**
   * How long stopping may wait for reconciles in flight: with leader election, less than the time a
   * standby must wait after the leader's last renewal, so that the two never overlap.
   */
  Duration reconcileTermination(Duration wanted) {
    if (election == null) {
      return wanted;
    }
    Duration bound = election.leaseDuration().minus(election.retryPeriod().multipliedBy(2));
    return wanted.compareTo(bound) < 0 ? wanted : bound;
  }

  private void startedLeading() {
    LOG.info("{} is now the leader (Lease {})", election.identity(), election.leaseName());
    leading.set(true);
    LeaseWatchdog watchdog =
        new LeaseWatchdog(
            () -> Optional.ofNullable(lease(watchdogClient)),
            election.identity(),
            election.renewDeadline(),
            // fabric8 writes the renew time with the system clock
            Clock.systemUTC(),
            () -> lost("the watchdog saw no renewal of its own in time"));
    long period = election.retryPeriod().toMillis();
    watchdogTimer.scheduleWithFixedDelay(watchdog::check, period, period, TimeUnit.MILLISECONDS);
  }

  private void lost(String why) {
    leading.set(false);
    // the elector and the watchdog may both notice; once is enough
    if (closing.get() || !fatal.compareAndSet(false, true)) {
      return;
    }
    LOG.error(
        "{} lost the Lease {} ({}): stopping at once so that only the new leader reconciles",
        election.identity(),
        election.leaseName(),
        why);
    onFatal.run();
  }

  private Lease lease(KubernetesClient client) {
    return client.leases().inNamespace(leaseNamespace()).withName(election.leaseName()).get();
  }

  private String leaseNamespace() {
    return election.leaseNamespace() == null
        ? kubernetes.getNamespace()
        : election.leaseNamespace();
  }

  /** Marks the replica as stopping; call before the operator stops. */
  void stopping() {
    closing.set(true);
  }

  /**
   * Gives the Lease up once this replica has stopped reconciling, so that a standby takes over at
   * its next try rather than after the lease duration. (JOSDK stops the elector's executor before
   * the elector could release the Lease itself.) Empties the holder as fabric8's own release does;
   * a Lease held by another replica is left alone.
   */
  @Override
  public void close() {
    closing.set(true);
    if (election == null) {
      return;
    }
    watchdogTimer.shutdownNow();
    try {
      Lease lease = lease(kubernetes);
      if (lease != null && election.identity().equals(lease.getSpec().getHolderIdentity())) {
        lease.getSpec().setHolderIdentity(null);
        lease.getSpec().setLeaseDurationSeconds(1);
        lease.getSpec().setRenewTime(ZonedDateTime.now(ZoneOffset.UTC));
        // an update with the resourceVersion read: never over a Lease a standby took meanwhile
        kubernetes.resource(lease).update();
        LOG.info("{} gave up the Lease {}", election.identity(), election.leaseName());
      }
    } catch (RuntimeException e) {
      // a conflict (a standby took it meanwhile) or no API server: either way it expires
      LOG.warn(
          "Could not give up the Lease {} (a standby takes over when it expires): {}",
          election.leaseName(),
          e.getMessage());
    } finally {
      leading.set(false);
      watchdogClient.close();
    }
  }
}
