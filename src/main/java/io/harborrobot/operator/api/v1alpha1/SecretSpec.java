package io.harborrobot.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import java.util.LinkedHashMap;
import java.util.Map;

/** The Kubernetes Secret the operator writes the robot's credentials into. */
public class SecretSpec {

  @Size(min = 1, max = 253)
  @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
  @JsonPropertyDescription(
      "Name of the Secret, in the HarborRobot's namespace. Defaults to the HarborRobot's name.")
  private String name;

  @Default("DockerConfigJson")
  @JsonPropertyDescription(
      "Shape of the Secret. DockerConfigJson: type kubernetes.io/dockerconfigjson with key"
          + " .dockerconfigjson, plus username, password and registry (an imagePullSecret)."
          + " BasicAuth: type kubernetes.io/basic-auth with username and password, plus registry."
          + " Env: type Opaque with HARBOR_URL, HARBOR_HOST, HARBOR_OCI, HARBOR_PROJECT,"
          + " HARBOR_USERNAME and HARBOR_PASSWORD (for envFrom in CI jobs). Changing it replaces"
          + " the Secret, keeping the credential.")
  private SecretType type = SecretType.DockerConfigJson;

  @JsonPropertyDescription("Labels copied onto the Secret.")
  private Map<String, String> labels = new LinkedHashMap<>();

  @JsonPropertyDescription("Annotations copied onto the Secret.")
  private Map<String, String> annotations = new LinkedHashMap<>();

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public SecretType getType() {
    return type;
  }

  public void setType(SecretType type) {
    this.type = type;
  }

  public Map<String, String> getLabels() {
    return labels;
  }

  public void setLabels(Map<String, String> labels) {
    this.labels = labels;
  }

  public Map<String, String> getAnnotations() {
    return annotations;
  }

  public void setAnnotations(Map<String, String> annotations) {
    this.annotations = annotations;
  }
}
