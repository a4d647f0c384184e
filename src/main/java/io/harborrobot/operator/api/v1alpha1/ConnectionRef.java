package io.harborrobot.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** Points a HarborRobot at the Harbor instance (and admin credentials) to use. */
public class ConnectionRef {

  @Default("HarborConnection")
  @JsonPropertyDescription(
      "Kind of the connection: HarborConnection (default), a connection in the same namespace;"
          + " or ClusterHarborConnection, a cluster-wide connection whose access rules must allow"
          + " this namespace and project.")
  private ConnectionKind kind = ConnectionKind.HarborConnection;

  @Required
  @Size(min = 1, max = 253)
  @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
  @JsonPropertyDescription("Name of the connection.")
  private String name;

  public ConnectionRef() {}

  public ConnectionRef(ConnectionKind kind, String name) {
    this.kind = kind;
    this.name = name;
  }

  public ConnectionKind getKind() {
    return kind;
  }

  public void setKind(ConnectionKind kind) {
    this.kind = kind;
  }

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  @Override
  public String toString() {
    return kind + "/" + name;
  }
}
