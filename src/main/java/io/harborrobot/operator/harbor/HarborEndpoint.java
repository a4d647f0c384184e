package io.harborrobot.operator.harbor;

import java.util.Objects;

/**
 * Where Harbor is, who the operator is there, and how hard it may be asked.
 *
 * @param connection the name of the connection this endpoint belongs to (e.g. {@code
 *     "HarborConnection/team-a/harbor"}), for metrics and for sharing limits between robots
 * @param baseUrl Harbor's external URL without {@code /api/v2.0}
 * @param username the account the operator uses
 * @param password its password; a {@link RobotSecret} so that this record prints safely
 * @param caBundlePem PEM certificates to trust instead of the JVM's trust store, or null
 * @param insecureSkipTlsVerify whether TLS verification is off
 * @param requestsPerSecond the most requests per second sent to this connection
 * @param maxConcurrentRequests the most requests in flight at once on this connection
 */
public record HarborEndpoint(
    String connection,
    String baseUrl,
    String username,
    RobotSecret password,
    String caBundlePem,
    boolean insecureSkipTlsVerify,
    double requestsPerSecond,
    int maxConcurrentRequests) {

  public static final double DEFAULT_REQUESTS_PER_SECOND = 10;
  public static final int DEFAULT_MAX_CONCURRENT_REQUESTS = 4;

  public HarborEndpoint {
    Objects.requireNonNull(connection, "connection");
    Objects.requireNonNull(baseUrl, "baseUrl");
    Objects.requireNonNull(username, "username");
    Objects.requireNonNull(password, "password");
    if (!(requestsPerSecond > 0) || maxConcurrentRequests < 1) {
      throw new IllegalArgumentException(
          "requestsPerSecond and maxConcurrentRequests must be positive");
    }
    baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
  }

  /** An endpoint named after its URL, with the default limits. */
  public HarborEndpoint(
      String baseUrl,
      String username,
      RobotSecret password,
      String caBundlePem,
      boolean insecureSkipTlsVerify) {
    this(
        baseUrl,
        baseUrl,
        username,
        password,
        caBundlePem,
        insecureSkipTlsVerify,
        DEFAULT_REQUESTS_PER_SECOND,
        DEFAULT_MAX_CONCURRENT_REQUESTS);
  }

  /** The same endpoint reached at another URL, without custom TLS (e.g. a local emulator). */
  public HarborEndpoint at(String otherBaseUrl) {
    return new HarborEndpoint(
        connection,
        otherBaseUrl,
        username,
        password,
        null,
        false,
        requestsPerSecond,
        maxConcurrentRequests);
  }

  @Override
  public String toString() {
    return "HarborEndpoint[" + connection + ": " + baseUrl + " as " + username + "]";
  }
}
