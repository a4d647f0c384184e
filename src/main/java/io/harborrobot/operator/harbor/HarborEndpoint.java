package io.harborrobot.operator.harbor;

import java.util.Objects;

/**
 * Where Harbor is and who the operator is there. {@code baseUrl} is Harbor's external URL without
 * {@code /api/v2.0}. The password is a {@link RobotSecret} so this record prints safely.
 */
public record HarborEndpoint(
    String baseUrl,
    String username,
    RobotSecret password,
    String caBundlePem,
    boolean insecureSkipTlsVerify) {

  public HarborEndpoint {
    Objects.requireNonNull(baseUrl, "baseUrl");
    Objects.requireNonNull(username, "username");
    Objects.requireNonNull(password, "password");
    baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
  }

  @Override
  public String toString() {
    return "HarborEndpoint[" + baseUrl + " as " + username + "]";
  }
}
