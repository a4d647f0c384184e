package io.harborrobot.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Observed state of a connection, written only by the operator. */
@com.fasterxml.jackson.annotation.JsonClassDescription(
    "Observed state of the connection, written only by the operator.")
@JsonInclude(JsonInclude.Include.NON_NULL)
public class HarborConnectionStatus {

  @JsonPropertyDescription("The metadata.generation this status describes.")
  private Long observedGeneration;

  @JsonPropertyDescription("Harbor's version as reported by /api/v2.0/systeminfo.")
  private String harborVersion;

  @JsonPropertyDescription("Registry host written into the credential Secrets.")
  private String registryHost;

  @JsonPropertyDescription(
      "How Harbor's TLS certificate is checked: against the system trust store, spec.caBundle or"
          + " a CA Secret; or not at all (insecureSkipTLSVerify, or plain HTTP).")
  private String tls;

  @JsonPropertyDescription(
      "Conditions in the metav1.Condition shape: Ready (reachable, credentials accepted, version"
          + " supported) and TLSVerified.")
  private List<Condition> conditions = new ArrayList<>();

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public String getHarborVersion() {
    return harborVersion;
  }

  public void setHarborVersion(String harborVersion) {
    this.harborVersion = harborVersion;
  }

  public String getRegistryHost() {
    return registryHost;
  }

  public void setRegistryHost(String registryHost) {
    this.registryHost = registryHost;
  }

  public String getTls() {
    return tls;
  }

  public void setTls(String tls) {
    this.tls = tls;
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof HarborConnectionStatus s
        && Objects.equals(observedGeneration, s.observedGeneration)
        && Objects.equals(harborVersion, s.harborVersion)
        && Objects.equals(registryHost, s.registryHost)
        && Objects.equals(tls, s.tls)
        && Objects.equals(conditions, s.conditions);
  }

  @Override
  public int hashCode() {
    return Objects.hash(observedGeneration, harborVersion, registryHost, tls, conditions);
  }
}
