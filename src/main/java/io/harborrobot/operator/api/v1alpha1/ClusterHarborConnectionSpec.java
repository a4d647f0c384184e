package io.harborrobot.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import java.util.ArrayList;
import java.util.List;

/** A HarborConnectionSpec that namespaces share, under access rules. */
@com.fasterxml.jackson.annotation.JsonClassDescription(
    "How to reach Harbor, with which credentials, and who may use this connection.")
public class ClusterHarborConnectionSpec extends HarborConnectionSpec {

  @Size(max = 256)
  @JsonPropertyDescription(
      "Who may use this connection. A HarborRobot may use it when one rule matches its namespace"
          + " and every project it names. Empty (the default): nobody.")
  private List<AccessRule> access = new ArrayList<>();

  public List<AccessRule> getAccess() {
    return access;
  }

  public void setAccess(List<AccessRule> access) {
    this.access = access;
  }
}
