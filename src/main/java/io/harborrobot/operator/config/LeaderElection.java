package io.harborrobot.operator.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Lease-based leader election: of several replicas, only the holder of the Lease reconciles; the
 * others keep their caches warm and take over when the Lease is not renewed.
 *
 * @param leaseName name of the {@code coordination.k8s.io/v1} Lease
 * @param leaseNamespace namespace of the Lease; {@code null} for the client's namespace (in a pod:
 *     its own)
 * @param identity this replica's name in the Lease (the pod name)
 * @param leaseDuration how long a Lease that is not renewed keeps others out; the holder renews it
 *     within two thirds of that, and every replica retries every {@link #retryPeriod()}
 */
public record LeaderElection(
    String leaseName, String leaseNamespace, String identity, Duration leaseDuration) {

  public static final String DEFAULT_LEASE_NAME = "harbor-robot-operator";
  public static final Duration DEFAULT_LEASE_DURATION = Duration.ofSeconds(15);

  public LeaderElection {
    Objects.requireNonNull(leaseName, "leaseName");
    Objects.requireNonNull(identity, "identity");
    if (leaseDuration == null || leaseDuration.compareTo(Duration.ofSeconds(3)) < 0) {
      throw new IllegalArgumentException(
          "the lease duration must be at least 3s, not " + leaseDuration);
    }
  }

  /** The holder gives up if it could not renew for this long, before others may take over. */
  public Duration renewDeadline() {
    return leaseDuration.multipliedBy(2).dividedBy(3);
  }

  /** How often candidates try to acquire, and the holder to renew. */
  public Duration retryPeriod() {
    Duration seventh = leaseDuration.dividedBy(7);
    return seventh.compareTo(Duration.ofSeconds(2)) < 0 ? seventh : Duration.ofSeconds(2);
  }
}
