package io.harborrobot.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** One resource and the actions granted on it, in Harbor's own names. */
@ValidationRule(
    value = ProjectPermissions.PAIR_RULE,
    messageExpression = ProjectPermissions.PAIR_MESSAGE_EXPRESSION)
public class Permission {

  @Required
  @Size(min = 1, max = 64)
  @Pattern("^[a-z][a-z-]*$")
  @JsonPropertyDescription(
      "Harbor resource, singular and lower case, e.g. repository, artifact, tag, label.")
  private String resource;

  @Required
  @Size(min = 1, max = 8)
  @JsonPropertyDescription(
      "Actions granted on the resource, e.g. pull, push, list, read. Only the pairs Harbor"
          + " allows for project robots are accepted.")
  private List<@Pattern("^[a-z]+$") String> actions = new ArrayList<>();

  public Permission() {}

  public Permission(String resource, List<String> actions) {
    this.resource = resource;
    this.actions = new ArrayList<>(actions);
  }

  public String getResource() {
    return resource;
  }

  public void setResource(String resource) {
    this.resource = resource;
  }

  public List<String> getActions() {
    return actions;
  }

  public void setActions(List<String> actions) {
    this.actions = actions;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Permission p
        && Objects.equals(resource, p.resource)
        && Objects.equals(actions, p.actions);
  }

  @Override
  public int hashCode() {
    return Objects.hash(resource, actions);
  }

  @Override
  public String toString() {
    return resource + ":" + actions;
  }
}
