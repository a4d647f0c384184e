package io.harborrobot.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;

/** One key of a Secret, e.g. a CA bundle. */
public class SecretKeyReference extends SecretReference {

  @Default("ca.crt")
  @Size(min = 1, max = 253)
  @Pattern("^[-._a-zA-Z0-9]+$")
  @JsonPropertyDescription("Key in the Secret's data (default ca.crt).")
  private String key = "ca.crt";

  public String getKey() {
    return key;
  }

  public void setKey(String key) {
    this.key = key;
  }
}
