package io.harborrobot.operator.reconciler;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.harborrobot.operator.api.v1alpha1.HarborConnection;
import io.harborrobot.operator.api.v1alpha1.HarborConnectionSpec;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.harbor.HarborClient;
import io.harborrobot.operator.harbor.HarborClientFactory;
import io.harborrobot.operator.harbor.HarborEndpoint;
import io.harborrobot.operator.harbor.HarborException;
import io.harborrobot.operator.harbor.HarborVersion;
import io.harborrobot.operator.harbor.RobotSecret;
import io.harborrobot.operator.harbor.SystemInfo;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

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

  private final KubernetesClient kubernetes;
  private final HarborClientFactory clientFactory;
  private final Clock clock;
  private final Duration credentialsMaxAge;
  private final Map<String, Entry> sessions = new ConcurrentHashMap<>();

  private record Entry(String connectionVersion, Instant createdAt, HarborSession session) {}

  public HarborSessions(
      KubernetesClient kubernetes,
      HarborClientFactory clientFactory,
      Clock clock,
      Duration credentialsMaxAge) {
    this.kubernetes = kubernetes;
    this.clientFactory = clientFactory;
    this.clock = clock;
    this.credentialsMaxAge = credentialsMaxAge;
  }

  /**
   * The session for {@code robot}'s connection, looked up with {@code connections} (the operator's
   * cache of HarborConnections, by namespace and name).
   *
   * @throws ReconcileProblem when the connection or its credentials are missing or invalid, or
   *     Harbor cannot be reached to learn its registry host
   */
  public HarborSession sessionFor(
      HarborRobot robot, Function<String, Optional<HarborConnection>> connections) {
    String namespace = robot.getMetadata().getNamespace();
    if (robot.getSpec() == null
        || robot.getSpec().getConnectionRef() == null
        || robot.getSpec().getConnectionRef().getName() == null) {
      throw new ReconcileProblem(
          Reasons.INVALID_SPEC, "spec.connectionRef.name is required", false);
    }
    String name = robot.getSpec().getConnectionRef().getName();
    String display = "HarborConnection/" + name;
    HarborConnection connection =
        connections
            .apply(name)
            .orElseThrow(
                () ->
                    new ReconcileProblem(
                        Reasons.CONNECTION_NOT_FOUND,
                        "HarborConnection " + name + " not found in namespace " + namespace,
                        false));
    String key = key(robot);
    String version = connection.getMetadata().getResourceVersion();
    Entry entry = sessions.get(key);
    Instant now = clock.instant();
    if (entry != null
        && entry.connectionVersion().equals(version)
        && entry.createdAt().plus(credentialsMaxAge).isAfter(now)) {
      return entry.session();
    }
    HarborSession session =
        open("HarborConnection/" + key, display, namespace, connection.getSpec());
    sessions.put(key, new Entry(version, now, session));
    return session;
  }

  /** The last session built for {@code robot}'s connection, however old. */
  public Optional<HarborSession> lastSession(HarborRobot robot) {
    return Optional.ofNullable(sessions.get(key(robot))).map(Entry::session);
  }

  /** Forgets the session of {@code robot}'s connection, e.g. after Harbor refused its login. */
  public void invalidate(HarborRobot robot) {
    sessions.remove(key(robot));
  }

  private static String key(HarborRobot robot) {
    return robot.getMetadata().getNamespace() + "/" + robot.getSpec().getConnectionRef().getName();
  }

  private HarborSession open(
      String connectionId, String display, String namespace, HarborConnectionSpec spec) {
    if (spec == null || spec.getUrl() == null || spec.getCredentialsSecretRef() == null) {
      throw new ReconcileProblem(
          Reasons.INVALID_CONNECTION,
          display + " needs spec.url and spec.credentialsSecretRef",
          false);
    }
    String secretName = spec.getCredentialsSecretRef().getName();
    Secret credentials = kubernetes.secrets().inNamespace(namespace).withName(secretName).get();
    if (credentials == null) {
      throw new ReconcileProblem(
          Reasons.INVALID_CONNECTION,
          display + ": credentials Secret " + secretName + " not found in namespace " + namespace,
          false);
    }
    String username = value(credentials, "username");
    String password = value(credentials, "password");
    if (username == null || username.isBlank() || password == null || password.isEmpty()) {
      throw new ReconcileProblem(
          Reasons.INVALID_CONNECTION,
          display + ": credentials Secret " + secretName + " needs keys username and password",
          false);
    }
    HarborClient client;
    try {
      client =
          clientFactory.create(
              new HarborEndpoint(
                  connectionId,
                  spec.getUrl(),
                  username,
                  RobotSecret.of(password),
                  spec.getCaBundle(),
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
    return new HarborSession(display, client, registryHost(spec.getUrl(), info));
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

  /** Harbor's registry_url when it reports one, else the URL's host[:port]. */
  static String registryHost(String url, SystemInfo info) {
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

  private static String value(Secret secret, String key) {
    if (secret.getData() != null && secret.getData().get(key) != null) {
      return new String(
          Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.UTF_8);
    }
    return secret.getStringData() == null ? null : secret.getStringData().get(key);
  }
}
