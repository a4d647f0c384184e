package io.harborrobot.operator.config;

import java.time.Duration;
import java.util.Optional;
import java.util.Set;

/**
 * How the operator runs. Every value has a production default; the command line and environment
 * variables override them (see {@code Main}).
 *
 * @param namespaces namespaces to watch; empty means all
 * @param resyncPeriod longest time between two reconciles of an unchanged HarborRobot, which is how
 *     drift made by hand in Harbor is found
 * @param credentialsMaxAge how long a connection's credentials and Harbor's systeminfo are reused
 *     before they are read again
 * @param retryInitialInterval first wait after a transient failure
 * @param retryMaxInterval longest wait between retries (the wait doubles up to it)
 * @param credentialCheckPeriod how often each Secret's credential is checked with a registry login
 *     (besides after every change), which is how a secret refreshed in Harbor by hand is found
 * @param connectionCheckPeriod how often each connection is probed (reachable, credentials
 *     accepted, version), besides when its spec or Secrets change
 * @param robotSelector label selector limiting the HarborRobots this operator manages (sharding a
 *     large fleet across several deployments); empty for all
 * @param leaderElection how replicas elect the one that reconciles; {@code null} when this is the
 *     only one
 */
public record OperatorConfig(
    Set<String> namespaces,
    Duration resyncPeriod,
    Duration credentialsMaxAge,
    Duration retryInitialInterval,
    Duration retryMaxInterval,
    Duration credentialCheckPeriod,
    Duration connectionCheckPeriod,
    String robotSelector,
    LeaderElection leaderElection) {

  public OperatorConfig {
    namespaces = Set.copyOf(namespaces);
    robotSelector = robotSelector == null ? "" : robotSelector.trim();
    requirePositive("resync period", resyncPeriod);
    requirePositive("credential check period", credentialCheckPeriod);
    requirePositive("connection check period", connectionCheckPeriod);
  }

  private static void requirePositive(String what, Duration value) {
    if (value == null || value.isZero() || value.isNegative()) {
      throw new IllegalArgumentException("the " + what + " must be positive, not " + value);
    }
  }

  public static OperatorConfig defaults() {
    return new OperatorConfig(
        Set.of(),
        Duration.ofMinutes(10),
        Duration.ofMinutes(5),
        Duration.ofSeconds(2),
        Duration.ofMinutes(5),
        Duration.ofMinutes(30),
        Duration.ofMinutes(5),
        "",
        null);
  }

  public Optional<LeaderElection> leaderElectionIfEnabled() {
    return Optional.ofNullable(leaderElection);
  }

  public OperatorConfig withResyncPeriod(Duration resync) {
    return new OperatorConfig(
        namespaces,
        resync,
        credentialsMaxAge,
        retryInitialInterval,
        retryMaxInterval,
        credentialCheckPeriod,
        connectionCheckPeriod,
        robotSelector,
        leaderElection);
  }

  public OperatorConfig withNamespaces(Set<String> watched) {
    return new OperatorConfig(
        watched,
        resyncPeriod,
        credentialsMaxAge,
        retryInitialInterval,
        retryMaxInterval,
        credentialCheckPeriod,
        connectionCheckPeriod,
        robotSelector,
        leaderElection);
  }

  public OperatorConfig withRetry(Duration initial, Duration max) {
    return new OperatorConfig(
        namespaces,
        resyncPeriod,
        credentialsMaxAge,
        initial,
        max,
        credentialCheckPeriod,
        connectionCheckPeriod,
        robotSelector,
        leaderElection);
  }

  public OperatorConfig withCredentialCheckPeriod(Duration period) {
    return new OperatorConfig(
        namespaces,
        resyncPeriod,
        credentialsMaxAge,
        retryInitialInterval,
        retryMaxInterval,
        period,
        connectionCheckPeriod,
        robotSelector,
        leaderElection);
  }

  public OperatorConfig withConnectionCheckPeriod(Duration period) {
    return new OperatorConfig(
        namespaces,
        resyncPeriod,
        credentialsMaxAge,
        retryInitialInterval,
        retryMaxInterval,
        credentialCheckPeriod,
        period,
        robotSelector,
        leaderElection);
  }

  public OperatorConfig withRobotSelector(String selector) {
    return new OperatorConfig(
        namespaces,
        resyncPeriod,
        credentialsMaxAge,
        retryInitialInterval,
        retryMaxInterval,
        credentialCheckPeriod,
        connectionCheckPeriod,
        selector,
        leaderElection);
  }

  public OperatorConfig withLeaderElection(LeaderElection election) {
    return new OperatorConfig(
        namespaces,
        resyncPeriod,
        credentialsMaxAge,
        retryInitialInterval,
        retryMaxInterval,
        credentialCheckPeriod,
        connectionCheckPeriod,
        robotSelector,
        election);
  }
}
