package io.harborrobot.operator.reconciler;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.harborrobot.operator.api.v1alpha1.Condition;
import io.harborrobot.operator.api.v1alpha1.HarborConnectionStatus;
import io.harborrobot.operator.harbor.HarborException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection controller's work, for both kinds of connection: is Harbor reachable, are the
 * credentials accepted, which version and registry host, how is TLS checked. Harbor is asked once
 * per {@code period}, and again as soon as the connection's spec or one of its Secrets changes
 * (their resourceVersions are compared at every look, which costs Kubernetes GETs, not Harbor
 * requests). Each probe also refreshes the session the connection's robots use.
 */
public final class ConnectionChecks {

  public static final String TLS_VERIFIED = "TLSVerified";
  static final String CONNECTED = "Connected";
  static final String INSECURE = "InsecureSkipTLSVerify";
  static final String PLAIN_HTTP = "PlainHTTP";

  private static final Logger LOG = LoggerFactory.getLogger(ConnectionChecks.class);

  private final HarborSessions sessions;
  private final ConnectionSecrets secrets;
  private final EventRecorder events;
  private final Clock clock;
  private final Duration period;
  private final Map<String, Probe> lastProbes = new ConcurrentHashMap<>();

  /** What was probed last: the spec generation and Secrets it saw, when, and with what result. */
  private record Probe(String object, String secretVersions, Instant at, boolean ok) {}

  public ConnectionChecks(
      HarborSessions sessions,
      KubernetesClient kubernetes,
      EventRecorder events,
      Clock clock,
      Duration period) {
    this.sessions = sessions;
    this.secrets = new ConnectionSecrets(kubernetes);
    this.events = events;
    this.clock = clock;
    this.period = period;
  }

  /** How soon to look again: often enough to notice a Secret change within a minute. */
  public Duration lookAgainAfter() {
    Duration minute = Duration.ofMinutes(1);
    return period.compareTo(minute) < 0 ? period : minute;
  }

  /**
   * The status {@code resource} (the connection {@code connection}) should have now, probing Harbor
   * when due; {@code current} is its status as stored. Records Events on transitions.
   */
  public HarborConnectionStatus check(
      HasMetadata resource, ResolvedConnection connection, HarborConnectionStatus current) {
    HarborConnectionStatus status = copyOf(current);
    Long generation = resource.getMetadata().getGeneration();
    String key = connection.key();
    Instant now = clock.instant();
    String versions;
    try {
      versions =
          connection.spec() == null || connection.spec().getCredentialsSecretRef() == null
              ? ""
              : secrets.versions(connection);
    } catch (KubernetesClientException e) {
      versions = "unreadable";
    }
    Probe last = lastProbes.get(key);
    boolean due =
        last == null
            || !Objects.equals(last.object(), connection.uid() + "/" + generation)
            || !last.secretVersions().equals(versions)
            || !last.ok()
            || !now.isBefore(last.at().plus(period));
    if (!due) {
      return status;
    }
    boolean ok;
    String reason;
    String message;
    try {
      HarborSession session = sessions.probe(connection);
      status.setHarborVersion(session.harborVersion());
      status.setRegistryHost(session.registryHost());
      ok = true;
      reason = CONNECTED;
      // Not the URL: it may carry user:password@ in its authority.
      message =
          "Harbor "
              + (session.harborVersion() == null ? "" : session.harborVersion() + " ")
              + "accepts the connection's credentials";
    } catch (ReconcileProblem | HarborException | KubernetesClientException e) {
      ReconcileProblem problem;
      if (e instanceof ReconcileProblem p) {
        problem = p;
      } else if (e instanceof HarborException h) {
        problem = ReconcileProblem.fromHarbor(h);
      } else {
        problem =
            new ReconcileProblem(
                Reasons.KUBERNETES_ERROR,
                connection.display()
                    + ": cannot read its Secrets from the Kubernetes API: "
                    + e.getMessage(),
                true);
      }
      ok = false;
      reason = problem.reason();
      message = problem.getMessage();
      LOG.warn("{}: {} {}", connection.display(), reason, problem.detail());
    }
    lastProbes.put(key, new Probe(connection.uid() + "/" + generation, versions, now, ok));
    boolean changed = setCondition(status, Conditions.READY, ok, reason, message, generation);
    if (changed) {
      if (ok) {
        events.normal(resource, reason, message);
      } else {
        events.warning(resource, reason, message);
      }
    }
    boolean plainHttp =
        connection.spec() != null
            && connection.spec().getUrl() != null
            && connection.spec().getUrl().startsWith("http://");
    boolean insecure =
        plainHttp
            || (connection.spec() != null
                && Boolean.TRUE.equals(connection.spec().getInsecureSkipTLSVerify()));
    status.setTls(tlsMode(connection));
    String tlsReason = plainHttp ? PLAIN_HTTP : insecure ? INSECURE : "Verified";
    boolean tlsChanged =
        setCondition(
            status,
            TLS_VERIFIED,
            !insecure,
            tlsReason,
            plainHttp
                ? "The URL is plain HTTP: the admin credentials sent on this connection travel"
                    + " unencrypted"
                : insecure
                    ? "insecureSkipTLSVerify is set: Harbor's certificate is not checked, so"
                        + " anyone in the network path can read the admin credentials sent on"
                        + " this connection"
                    : "Harbor's certificate is checked against " + tlsMode(connection),
            generation);
    if (tlsChanged && insecure) {
      events.warning(
          resource,
          tlsReason,
          "TLS is not verified for " + connection.display() + " (" + tlsMode(connection) + ")");
      LOG.warn("{}: TLS is not verified ({})", connection.display(), tlsMode(connection));
    }
    status.setObservedGeneration(generation);
    return status;
  }

  /** Forgets a deleted connection. */
  public void forget(ResolvedConnection connection) {
    lastProbes.remove(connection.key());
  }

  private static String tlsMode(ResolvedConnection connection) {
    if (connection.spec() == null || connection.spec().getUrl() == null) {
      return "unknown";
    }
    if (connection.spec().getUrl().startsWith("http://")) {
      return "none (plain HTTP)";
    }
    if (Boolean.TRUE.equals(connection.spec().getInsecureSkipTLSVerify())) {
      return "insecure (certificate not verified)";
    }
    if (connection.spec().getCaSecretRef() != null) {
      return "the CA in Secret " + connection.spec().getCaSecretRef();
    }
    if (connection.spec().getCaBundle() != null && !connection.spec().getCaBundle().isBlank()) {
      return "spec.caBundle";
    }
    return "the system trust store";
  }

  /** Sets a condition; returns whether its status, reason or message changed. */
  private boolean setCondition(
      HarborConnectionStatus status,
      String type,
      boolean value,
      String reason,
      String message,
      Long generation) {
    Optional<Condition> before = Conditions.find(status.getConditions(), type);
    status.setConditions(
        Conditions.set(
            status.getConditions(), type, value, reason, message, generation, clock.instant()));
    return before.isEmpty()
        || !Objects.equals(before.get().getStatus(), value ? "True" : "False")
        || !Objects.equals(before.get().getReason(), reason)
        || !Objects.equals(before.get().getMessage(), message);
  }

  private static HarborConnectionStatus copyOf(HarborConnectionStatus status) {
    HarborConnectionStatus copy = new HarborConnectionStatus();
    if (status != null) {
      copy.setObservedGeneration(status.getObservedGeneration());
      copy.setHarborVersion(status.getHarborVersion());
      copy.setRegistryHost(status.getRegistryHost());
      copy.setTls(status.getTls());
      copy.setConditions(
          status.getConditions() == null ? List.of() : List.copyOf(status.getConditions()));
    }
    return copy;
  }
}
