package io.harborrobot.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** How to reach a Harbor instance and with which credentials. */
@com.fasterxml.jackson.annotation.JsonClassDescription(
    "How to reach Harbor and with which credentials.")
@io.fabric8.generator.annotation.ValidationRule(
    value = "!has(self.caBundle) || !has(self.caSecretRef)",
    message = "set caBundle or caSecretRef, not both")
public class HarborConnectionSpec {

  @Required
  @Size(max = 2048)
  @Pattern("^https?://[^\\s/?#]+(/[^\\s?#]*)?$")
  @JsonPropertyDescription(
      "Base URL of Harbor, e.g. https://harbor.example.com (without /api/v2.0).")
  private String url;

  @Size(max = 261)
  @Pattern("^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?(:[0-9]{1,5})?$")
  @JsonPropertyDescription(
      "The host[:port] docker and the kubelet log in to, written into the credential Secrets."
          + " Default: Harbor's systeminfo registry_url, else the host and port of url. Set it"
          + " when Harbor's external URL is not what clients reach.")
  private String registryHost;

  @Required
  @JsonPropertyDescription(
      "Secret with keys username and password: a Harbor administrator or an admin of the"
          + " projects the robots belong to. In the connection's own namespace for a"
          + " HarborConnection; namespace required for a ClusterHarborConnection.")
  private SecretReference credentialsSecretRef;

  @JsonPropertyDescription(
      "A Secret key holding the PEM CA bundle, instead of caBundle (key defaults to ca.crt). Same"
          + " namespace rules as credentialsSecretRef.")
  private SecretKeyReference caSecretRef;

  @Size(max = 65536)
  @JsonPropertyDescription(
      "PEM bundle of the CA certificates that sign Harbor's TLS certificate. Defaults to the JVM's"
          + " trust store.")
  private String caBundle;

  @Default("false")
  @JsonPropertyDescription(
      "Skip TLS certificate verification. For experiments only: the operator sends Harbor admin"
          + " credentials over this connection.")
  private Boolean insecureSkipTLSVerify = false;

  @Default("10")
  @Min(1)
  @Max(1000)
  @JsonPropertyDescription(
      "The most requests per second the operator sends to this Harbor, shared by all robots that"
          + " use this connection.")
  private Integer requestsPerSecond = 10;

  @Default("4")
  @Min(1)
  @Max(64)
  @JsonPropertyDescription(
      "The most requests in flight at once to this Harbor, shared by all robots that use this"
          + " connection.")
  private Integer maxConcurrentRequests = 4;

  public String getRegistryHost() {
    return registryHost;
  }

  public void setRegistryHost(String registryHost) {
    this.registryHost = registryHost;
  }

  public SecretKeyReference getCaSecretRef() {
    return caSecretRef;
  }

  public void setCaSecretRef(SecretKeyReference caSecretRef) {
    this.caSecretRef = caSecretRef;
  }

  public Integer getRequestsPerSecond() {
    return requestsPerSecond;
  }

  public void setRequestsPerSecond(Integer requestsPerSecond) {
    this.requestsPerSecond = requestsPerSecond;
  }

  public Integer getMaxConcurrentRequests() {
    return maxConcurrentRequests;
  }

  public void setMaxConcurrentRequests(Integer maxConcurrentRequests) {
    this.maxConcurrentRequests = maxConcurrentRequests;
  }

  public String getUrl() {
    return url;
  }

  public void setUrl(String url) {
    this.url = url;
  }

  public SecretReference getCredentialsSecretRef() {
    return credentialsSecretRef;
  }

  public void setCredentialsSecretRef(SecretReference credentialsSecretRef) {
    this.credentialsSecretRef = credentialsSecretRef;
  }

  public String getCaBundle() {
    return caBundle;
  }

  public void setCaBundle(String caBundle) {
    this.caBundle = caBundle;
  }

  public Boolean getInsecureSkipTLSVerify() {
    return insecureSkipTLSVerify;
  }

  public void setInsecureSkipTLSVerify(Boolean insecureSkipTLSVerify) {
    this.insecureSkipTLSVerify = insecureSkipTLSVerify;
  }
}
