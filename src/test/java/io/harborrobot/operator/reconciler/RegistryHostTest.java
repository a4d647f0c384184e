package io.harborrobot.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.harborrobot.operator.api.v1alpha1.HarborConnectionSpec;
import io.harborrobot.operator.harbor.SystemInfo;
import org.junit.jupiter.api.Test;

/** Where the docker login host in the Secrets comes from, in order. */
class RegistryHostTest {

  private static HarborConnectionSpec spec(String url, String registryHost) {
    HarborConnectionSpec spec = new HarborConnectionSpec();
    spec.setUrl(url);
    spec.setRegistryHost(registryHost);
    return spec;
  }

  private static final SystemInfo REPORTED =
      new SystemInfo("v2.15.2-abc", "https://harbor.example.com", "https://registry.example.com/");

  @Test
  void theConnectionsRegistryHostComesFirst() {
    assertThat(
            HarborSessions.registryHost(
                spec("https://harbor.example.com", "pull.example.com:5443"), REPORTED))
        .isEqualTo("pull.example.com:5443");
  }

  @Test
  void thenHarborsRegistryUrlWithoutSchemeOrSlash() {
    assertThat(HarborSessions.registryHost(spec("https://harbor.example.com", null), REPORTED))
        .isEqualTo("registry.example.com");
  }

  @Test
  void thenTheHostAndPortOfTheUrl() {
    assertThat(HarborSessions.registryHost(spec("https://harbor.internal:8443/", null), null))
        .isEqualTo("harbor.internal:8443");
    assertThat(
            HarborSessions.registryHost(
                spec("https://harbor.internal", " "), new SystemInfo("v2.15.2", null, "")))
        .isEqualTo("harbor.internal");
  }
}
