package io.harborrobot.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

/** What a System-level robot may do in one project (or, with name "*", in every project). */
@com.fasterxml.jackson.annotation.JsonClassDescription(
    "Permissions of a System-level robot in one project, or in every project with name \"*\".")
@ValidationRule(
    value = "has(self.preset) != has(self.permissions)",
    message = "each entry of projects needs exactly one of preset or permissions")
@ValidationRule(
    value =
        "!has(self.permissions) || !self.permissions.exists(p, p.resource == 'repository' &&"
            + " 'push' in p.actions) || self.permissions.exists(p, p.resource == 'repository' &&"
            + " 'pull' in p.actions)",
    message = "repository push requires repository pull (Harbor does not add it for system robots)")
@ValidationRule(
    value =
        "!has(self.permissions) || self.permissions.all(p, self.permissions.exists_one(q,"
            + " q.resource == p.resource))",
    message = "each resource may appear only once in a project's permissions")
public class ProjectGrant {

  @Required
  @Size(min = 1, max = 255)
  @Pattern("^(\\*|[a-z0-9]+(?:[._-][a-z0-9]+)*)$")
  @JsonPropertyDescription("Harbor project name, or \"*\" for every project, current and future.")
  private String name;

  @JsonPropertyDescription(
      "Shorthand for a permission set (Pull, Push, CI), exclusive with permissions.")
  private Preset preset;

  @Size(min = 1, max = 32)
  @JsonPropertyDescription(
      "Permissions in Harbor's names, exclusive with preset. Push requires pull.")
  private List<Permission> permissions;

  public ProjectGrant() {}

  public ProjectGrant(String name, Preset preset) {
    this.name = name;
    this.preset = preset;
  }

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public Preset getPreset() {
    return preset;
  }

  public void setPreset(Preset preset) {
    this.preset = preset;
  }

  public List<Permission> getPermissions() {
    return permissions;
  }

  public void setPermissions(List<Permission> permissions) {
    this.permissions = permissions;
  }
}
