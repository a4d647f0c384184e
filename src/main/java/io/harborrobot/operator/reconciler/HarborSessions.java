package io.harborrobot.operator.reconciler;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.harborrobot.operator.api.v1alpha1.HarborConnectionSpec;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.harbor.HarborClient;
import io.harborrobot.operator.harbor.HarborClientFactory;
import io.harborrobot.operator.harbor.HarborEndpoint;
import io.harborrobot.operator.harbor.HarborException;
import io.harborrobot.operator.harbor.HarborVersion;
import io.harborrobot.operator.harbor.SystemInfo;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Resolves a HarborRobot's connection into a {@link HarborSession} and keeps one per connection, so
 * the credentials Secret and Harbor's systeminfo are read once per connection rather than once per
 * robot. A session is rebuilt when the connection changes, after {@code credentialsMaxAge}
 * (credentials are rotated in the Secret without touching the connection), or after Harbor refused
 * the credentials.
 */
public class HarborSessions {

  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(HarborSessions.class);

  private final ConnectionSecrets secrets;
  private final HarborClientFactory clientFactory;
  private final Clock clock;
  private final Duration credentialsMaxAge;
  private final Map<String, Entry> sessions = new ConcurrentHashMap<>();
  private final Map<String, String> lastByRobot = new ConcurrentHashMap<>();
  private final Map<String, Object> renewals = new ConcurrentHashMap<>();

  private record Entry(String connectionVersion, Instant createdAt, HarborSession session) {}

  public HarborSessions(
      KubernetesClient kubernetes,
      HarborClientFactory clientFactory,
      Clock clock,
      Duration credentialsMaxAge) {
    this.secrets = new ConnectionSecrets(kubernetes);
    this.clientFactory = clientFactory;
    this.clock = clock;
    this.credentialsMaxAge = credentialsMaxAge;
  }

  /**
   * The session for {@code connection}, which {@code robot} uses.
   *
   * @throws ReconcileProblem when the connection is known to be broken (its status says so), or its
   *     credentials are missing or invalid, or Harbor cannot be reached to learn its registry host
   */
  public HarborSession sessionFor(HarborRobot robot, ResolvedConnection connection) {
    requireUsable(connection);
    String key = connection.key();
    Entry entry = sessions.get(key);
    if (!current(entry, connection)) {
      // One reconcile renews the session; the others of the connection that find it due at the
      // same moment (a resync wave of thousands of robots) wait for it instead of each reading
      // the credentials and asking Harbor's systeminfo.
      synchronized (renewals.computeIfAbsent(key, k -> new Object())) {
        entry = sessions.get(key);
        if (!current(entry, connection)) {
          Instant now = clock.instant();
          entry = new Entry(specVersion(connection), now, open(connection));
          sessions.put(key, entry);
          forgetUnused(now);
        }
      }
    }
    lastByRobot.put(robotKey(robot), key);
    return entry.session();
  }

  private boolean current(Entry entry, ResolvedConnection connection) {
    return entry != null
        && entry.connectionVersion().equals(specVersion(connection))
        && entry.createdAt().plus(credentialsMaxAge).isAfter(clock.instant());
  }

  /**
   * Opens a fresh session for {@code connection} whatever its status says, and keeps it for the
   * robots that use the connection: the connection controller's check.
   *
   * @throws ReconcileProblem or {@link HarborException} saying why Harbor cannot be used
   */
  public HarborSession probe(ResolvedConnection connection) {
    HarborSession session = open(connection);
    sessions.put(connection.key(), new Entry(specVersion(connection), clock.instant(), session));
    forgetUnused(clock.instant());
    return session;
  }

  /**
   * The last session {@code robot} used, however old, if it was of the connection {@code key}
   * ({@link ResolvedConnection#key()}).
   */
  public Optional<HarborSession> lastSession(HarborRobot robot, String key) {
    return Optional.ofNullable(lastByRobot.get(robotKey(robot)))
        .filter(key::equals)
        .map(sessions::get)
        .map(Entry::session);
  }

  /** Forgets the session {@code robot} last used, e.g. after Harbor refused its login. */
  public void invalidate(HarborRobot robot) {
    String key = lastByRobot.get(robotKey(robot));
    if (key != null) {
      sessions.remove(key);
    }
  }

  /**
   * Drops sessions nobody renewed for twice their lifetime (a deleted connection's): they hold
   * admin credentials, which are kept only as long as they are used.
   */
  private void forgetUnused(Instant now) {
    sessions
        .values()
        .removeIf(e -> e.createdAt().plus(credentialsMaxAge.multipliedBy(2)).isBefore(now));
  }

  /** Forgets everything about {@code robot} (it is gone). */
  public void forget(HarborRobot robot) {
    lastByRobot.remove(robotKey(robot));
  }

  /**
   * The connection object and its spec's generation: a status written by the connection controller
   * keeps the session; a connection deleted and created again under the same name does not.
   */
  private static String specVersion(ResolvedConnection connection) {
    return connection.uid()
        + "/"
        + (connection.generation() == null ? connection.version() : connection.generation());
  }

  private static String robotKey(HarborRobot robot) {
    return robot.getMetadata().getNamespace() + "/" + robot.getMetadata().getName();
  }

  /**
   * A connection whose status (written by the connection controller for its current generation)
   * says Harbor cannot be reached or refuses its credentials is not tried once per robot: the
   * robots wait for the connection to recover, which re-reconciles them.
   */
  private static void requireUsable(ResolvedConnection connection) {
    if (connection.status() == null || connection.status().getConditions() == null) {
      return;
    }
    Conditions.find(connection.status().getConditions(), Conditions.READY)
        .filter(c -> "False".equals(c.getStatus()))
        .filter(c -> java.util.Objects.equals(c.getObservedGeneration(), connection.generation()))
        .filter(c -> BROKEN.contains(c.getReason()))
        .ifPresent(
            c -> {
              // The connection's reason, so a robot reads Unauthorized or HarborUnreachable
              // whether its own request or the connection controller found out first.
              throw new ReconcileProblem(
                  c.getReason(), connection.display() + " is not ready: " + c.getMessage(), false);
            });
  }

  private static final java.util.Set<String> BROKEN =
      java.util.Set.of(
          Reasons.UNAUTHORIZED,
          Reasons.FORBIDDEN,
          Reasons.HARBOR_UNREACHABLE,
          Reasons.INVALID_CONNECTION,
          Reasons.HARBOR_VERSION_UNSUPPORTED);

  private HarborSession open(ResolvedConnection connection) {
    connection.requireReadable();
    String display = connection.display();
    HarborConnectionSpec spec = connection.spec();
    if (spec == null || spec.getUrl() == null || spec.getCredentialsSecretRef() == null) {
      throw new ReconcileProblem(
          Reasons.INVALID_CONNECTION,
          display + " needs spec.url and spec.credentialsSecretRef",
          false);
    }
    ConnectionSecrets.Credentials credentials = secrets.credentials(connection);
    HarborClient client;
    try {
      client =
          clientFactory.create(
              new HarborEndpoint(
                  connection.key(),
                  spec.getUrl(),
                  credentials.username(),
                  credentials.password(),
                  secrets.caBundle(connection),
                  Boolean.TRUE.equals(spec.getInsecureSkipTLSVerify()),
                  valueOr(spec.getRequestsPerSecond(), HarborEndpoint.DEFAULT_REQUESTS_PER_SECOND),
                  valueOr(
                      spec.getMaxConcurrentRequests(),
                      HarborEndpoint.DEFAULT_MAX_CONCURRENT_REQUESTS)));
    } catch (IllegalArgumentException e) {
      throw new ReconcileProblem(
          Reasons.INVALID_CONNECTION, display + ": " + e.getMessage(), false);
    }
    SystemInfo info;
    try {
      info = client.systemInfo();
    } catch (HarborException e) {
      throw ReconcileProblem.fromHarbor(e);
    }
    checkVersion(display, info);
    return new HarborSession(
        display,
        client,
        registryHost(spec, info),
        info == null ? null : info.harborVersion(),
        spec.getUrl());
  }

  /**
   * Refuses Harbor releases without the robot v2 API. A version that cannot be read (a custom
   * build) is given the benefit of the doubt; Harbor's own answers will tell.
   */
  private static void checkVersion(String display, SystemInfo info) {
    String reported = info == null ? null : info.harborVersion();
    Optional<HarborVersion> version = HarborVersion.parse(reported);
    if (version.isEmpty()) {
      LOG.warn("{}: cannot read Harbor's version '{}'; going on", display, reported);
      return;
    }
    if (version.get().isBefore(HarborVersion.MINIMUM)) {
      throw new ReconcileProblem(
          Reasons.HARBOR_VERSION_UNSUPPORTED,
          display
              + ": Harbor "
              + version.get()
              + " has no robot v2 API; harbor-robot-operator needs Harbor "
              + HarborVersion.MINIMUM
              + " or later ("
              + HarborVersion.RECOMMENDED
              + " or later recommended)",
          false);
    }
    if (version.get().isBefore(HarborVersion.RECOMMENDED)) {
      LOG.info(
          "{}: Harbor {} is supported; {} or later is recommended",
          display,
          version.get(),
          HarborVersion.RECOMMENDED);
    }
  }

  /**
   * The spec's registryHost when set, else Harbor's registry_url when it reports one, else the
   * URL's host[:port].
   */
  static String registryHost(HarborConnectionSpec spec, SystemInfo info) {
    if (spec.getRegistryHost() != null && !spec.getRegistryHost().isBlank()) {
      return spec.getRegistryHost();
    }
    String url = spec.getUrl();
    if (info != null && info.registryUrl() != null && !info.registryUrl().isBlank()) {
      return info.registryUrl().replaceFirst("^https?://", "").replaceAll("/+$", "");
    }
    URI uri = URI.create(url);
    return uri.getPort() > 0 ? uri.getHost() + ":" + uri.getPort() : uri.getHost();
  }

  private static int valueOr(Integer value, int fallback) {
    return value == null ? fallback : value;
  }

  private static double valueOr(Integer value, double fallback) {
    return value == null ? fallback : value;
  }
}
