package io.harborrobot.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.LabelSelector;
import java.util.ArrayList;
import java.util.List;

/**
 * Who may use a ClusterHarborConnection: HarborRobots in the namespaces this rule names or selects,
 * for Harbor projects matching its patterns.
 */
@com.fasterxml.jackson.annotation.JsonClassDescription(
    "HarborRobots in these namespaces (by name and/or label selector) may use the connection for"
        + " Harbor projects matching these patterns.")
@ValidationRule(
    value = "has(self.namespaces) || has(self.namespaceSelector)",
    message = "an access rule needs namespaces or a namespaceSelector")
public class AccessRule {

  @Size(max = 256)
  @JsonPropertyDescription("Namespaces, by exact name.")
  private List<String> namespaces;

  @JsonPropertyDescription(
      "Namespaces whose labels match this selector (matchLabels and matchExpressions). An empty"
          + " selector matches every namespace.")
  @SchemaFrom(type = LabelSelectorSchema.class) // fabric8's LabelSelector has no descriptions
  private LabelSelector namespaceSelector;

  @Required
  @Size(min = 1, max = 256)
  @JsonPropertyDescription(
      "Harbor project names, as glob patterns: '*' matches any run of characters and '?' one"
          + " character (e.g. team-a, team-a-*). Required: a rule grants no project by default.")
  private List<String> projects = new ArrayList<>();

  @Default("false")
  @JsonPropertyDescription(
      "Whether System-level robots (which span projects) may be created through this rule.")
  private Boolean allowSystemLevel = false;

  public List<String> getNamespaces() {
    return namespaces;
  }

  public void setNamespaces(List<String> namespaces) {
    this.namespaces = namespaces;
  }

  public LabelSelector getNamespaceSelector() {
    return namespaceSelector;
  }

  public void setNamespaceSelector(LabelSelector namespaceSelector) {
    this.namespaceSelector = namespaceSelector;
  }

  public List<String> getProjects() {
    return projects;
  }

  public void setProjects(List<String> projects) {
    this.projects = projects;
  }

  public Boolean getAllowSystemLevel() {
    return allowSystemLevel;
  }

  public void setAllowSystemLevel(Boolean allowSystemLevel) {
    this.allowSystemLevel = allowSystemLevel;
  }
}
