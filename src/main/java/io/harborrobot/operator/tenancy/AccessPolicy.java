package io.harborrobot.operator.tenancy;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.harborrobot.operator.api.v1alpha1.AccessRule;
import io.harborrobot.operator.api.v1alpha1.ClusterHarborConnection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Decides whether a ClusterHarborConnection's access rules let a namespace use it for a project
 * (DESIGN.md §4.6). One rule must match the namespace (by name or label selector) and the project
 * (by glob), and allow the level. No rule, no access: an empty list lets nobody in.
 */
public final class AccessPolicy {

  /** The answer, with a message that says what is missing when it is no. */
  public record Decision(boolean allowed, String message) {
    static Decision allow() {
      return new Decision(true, null);
    }

    static Decision deny(String message) {
      return new Decision(false, message);
    }
  }

  private AccessPolicy() {}

  /**
   * Whether {@code namespace} (with its {@code labels}) may use {@code connection} for a robot in
   * {@code project} ({@code systemLevel} for a robot that spans projects).
   */
  public static Decision evaluate(
      ClusterHarborConnection connection,
      String namespace,
      Map<String, String> labels,
      String project,
      boolean systemLevel) {
    String name = "ClusterHarborConnection " + connection.getMetadata().getName();
    List<AccessRule> rules =
        connection.getSpec() == null || connection.getSpec().getAccess() == null
            ? List.of()
            : connection.getSpec().getAccess();
    if (rules.isEmpty()) {
      return Decision.deny(name + " has no access rules, so no namespace may use it");
    }
    List<AccessRule> forNamespace = new ArrayList<>();
    for (AccessRule rule : rules) {
      if (matchesNamespace(rule, namespace, labels)) {
        forNamespace.add(rule);
      }
    }
    if (forNamespace.isEmpty()) {
      return Decision.deny(
          name
              + " has no access rule for namespace "
              + namespace
              + ": a platform administrator must add it to spec.access (by name or label)");
    }
    List<String> patterns = new ArrayList<>();
    for (AccessRule rule : forNamespace) {
      List<String> projects = rule.getProjects() == null ? List.of() : rule.getProjects();
      patterns.addAll(projects);
      if (projects.stream().anyMatch(p -> globMatches(p, project))) {
        if (systemLevel && !Boolean.TRUE.equals(rule.getAllowSystemLevel())) {
          continue;
        }
        return Decision.allow();
      }
    }
    if (patterns.stream().anyMatch(p -> globMatches(p, project))) {
      return Decision.deny(
          name
              + " lets namespace "
              + namespace
              + " use project "
              + project
              + " for project robots only: no matching rule sets allowSystemLevel");
    }
    return Decision.deny(
        name + " lets namespace " + namespace + " use projects " + patterns + ", not " + project);
  }

  static boolean matchesNamespace(AccessRule rule, String namespace, Map<String, String> labels) {
    if (rule.getNamespaces() != null && rule.getNamespaces().contains(namespace)) {
      return true;
    }
    return rule.getNamespaceSelector() != null
        && selectorMatches(rule.getNamespaceSelector(), labels == null ? Map.of() : labels);
  }

  /**
   * Kubernetes label selector semantics: every matchLabels entry and every matchExpressions
   * requirement must hold; an empty selector matches everything.
   */
  static boolean selectorMatches(LabelSelector selector, Map<String, String> labels) {
    if (selector.getMatchLabels() != null) {
      for (Map.Entry<String, String> e : selector.getMatchLabels().entrySet()) {
        if (!Objects.equals(labels.get(e.getKey()), e.getValue())) {
          return false;
        }
      }
    }
    if (selector.getMatchExpressions() != null) {
      for (LabelSelectorRequirement r : selector.getMatchExpressions()) {
        if (!requirementHolds(r, labels)) {
          return false;
        }
      }
    }
    return true;
  }

  private static boolean requirementHolds(LabelSelectorRequirement r, Map<String, String> labels) {
    String value = labels.get(r.getKey());
    List<String> values = r.getValues() == null ? List.of() : r.getValues();
    return switch (r.getOperator() == null ? "" : r.getOperator()) {
      case "In" -> value != null && values.contains(value);
      case "NotIn" -> value == null || !values.contains(value);
      case "Exists" -> labels.containsKey(r.getKey());
      case "DoesNotExist" -> !labels.containsKey(r.getKey());
      // An operator Kubernetes does not know matches nothing: never widen access by mistake.
      default -> false;
    };
  }

  /** Glob over a Harbor project name: '*' any run of characters, '?' exactly one. */
  static boolean globMatches(String pattern, String text) {
    if (pattern == null || text == null) {
      return false;
    }
    if (text.equals("*")) {
      // A grant in every project, current and future, needs a rule that says exactly that: a
      // pattern such as "?" or "team-*" matching the character '*' is no such rule.
      return pattern.equals("*");
    }
    StringBuilder regex = new StringBuilder();
    StringBuilder literal = new StringBuilder();
    for (char c : pattern.toCharArray()) {
      if (c == '*' || c == '?') {
        if (!literal.isEmpty()) {
          regex.append(Pattern.quote(literal.toString()));
          literal.setLength(0);
        }
        regex.append(c == '*' ? ".*" : ".");
      } else {
        literal.append(c);
      }
    }
    if (!literal.isEmpty()) {
      regex.append(Pattern.quote(literal.toString()));
    }
    return text.matches(regex.toString());
  }
}
