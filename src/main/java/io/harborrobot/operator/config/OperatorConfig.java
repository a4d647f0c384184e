package io.harborrobot.operator.config;

import java.time.Duration;
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
 */
public record OperatorConfig(
    Set<String> namespaces,
    Duration resyncPeriod,
    Duration credentialsMaxAge,
    Duration retryInitialInterval,
    Duration retryMaxInterval,
    Duration credentialCheckPeriod) {

  public OperatorConfig {
    namespaces = Set.copyOf(namespaces);
  }

  public static OperatorConfig defaults() {
    return new OperatorConfig(
        Set.of(),
        Duration.ofMinutes(10),
        Duration.ofMinutes(5),
        Duration.ofSeconds(2),
        Duration.ofMinutes(5),
        Duration.ofMinutes(30));
  }

  public OperatorConfig withResyncPeriod(Duration resync) {
    return new OperatorConfig(
        namespaces,
        resync,
        credentialsMaxAge,
        retryInitialInterval,
        retryMaxInterval,
        credentialCheckPeriod);
  }

  public OperatorConfig withNamespaces(Set<String> watched) {
    return new OperatorConfig(
        watched,
        resyncPeriod,
        credentialsMaxAge,
        retryInitialInterval,
        retryMaxInterval,
        credentialCheckPeriod);
  }

  public OperatorConfig withRetry(Duration initial, Duration max) {
    return new OperatorConfig(
        namespaces, resyncPeriod, credentialsMaxAge, initial, max, credentialCheckPeriod);
  }

  public OperatorConfig withCredentialCheckPeriod(Duration period) {
    return new OperatorConfig(
        namespaces,
        resyncPeriod,
        credentialsMaxAge,
        retryInitialInterval,
        retryMaxInterval,
        period);
  }
}
