package io.harborrobot.operator.validation;

import dev.cel.runtime.CelRuntime;
import java.util.List;
import java.util.Map;

/**
 * One entry of a CRD's {@code x-kubernetes-validations}, compiled as the API server compiles it.
 * Instances are made by {@link ManifestValidator} and listed by {@link
 * ManifestValidator#celRules()}, so that tests can pin every rule of the CRDs; identity, not value,
 * equality (the same rule text may appear at several locations).
 */
public final class CelRule {

  private final CrdSchema crd;
  private final String location;
  private final Map<String, Object> validation;
  private final Map<String, Object> schema;
  private final boolean transition;
  private final List<String> compileErrors;
  private final CelRuntime.Program program;
  private final CelRuntime.Program messageProgram;

  CelRule(
      CrdSchema crd,
      String location,
      Map<String, Object> validation,
      Map<String, Object> schema,
      boolean transition,
      List<String> compileErrors,
      CelRuntime.Program program,
      CelRuntime.Program messageProgram) {
    this.crd = crd;
    this.location = location;
    this.validation = validation;
    this.schema = schema;
    this.transition = transition;
    this.compileErrors = List.copyOf(compileErrors);
    this.program = compileErrors.isEmpty() ? program : null;
    this.messageProgram = compileErrors.isEmpty() ? messageProgram : null;
  }

  /** The CRD and version the rule belongs to, e.g. {@code harborrobots.harborrobot.io/v1alpha1}. */
  public String crd() {
    return crd.key();
  }

  /** The apiVersion of the objects the rule applies to, e.g. {@code harborrobot.io/v1alpha1}. */
  public String apiVersion() {
    return crd.apiVersion();
  }

  /** The kind of the objects the rule applies to. */
  public String kind() {
    return crd.kind();
  }

  /**
   * Where the rule sits in the schema: {@code .} for the root, {@code .spec}, {@code
   * .spec.permissions[*]} for the items of a list, {@code .spec.secret.labels{*}} for the values of
   * a map.
   */
  public String location() {
    return location;
  }

  /** The CEL expression. */
  public String rule() {
    return (String) validation.get("rule");
  }

  /** The rule's message, or null. */
  public String message() {
    return (String) validation.get("message");
  }

  /** The rule's messageExpression, or null. */
  public String messageExpression() {
    return (String) validation.get("messageExpression");
  }

  /** The rule's reason (e.g. {@code FieldValueForbidden}), or null for Invalid value. */
  public String reason() {
    return (String) validation.get("reason");
  }

  /** The rule's fieldPath, or null. */
  public String fieldPath() {
    return (String) validation.get("fieldPath");
  }

  /** Whether the rule reads {@code oldSelf}: it then only runs on updates. */
  public boolean transition() {
    return transition;
  }

  /**
   * Why the API server would refuse the CRD for this rule: the expression does not compile against
   * the schema's types, is not a bool, uses oldSelf where it cannot, ...; empty when it compiles.
   */
  public List<String> compileErrors() {
    return compileErrors;
  }

  Map<String, Object> schema() {
    return schema;
  }

  CelRuntime.Program program() {
    return program;
  }

  CelRuntime.Program messageProgram() {
    return messageProgram;
  }

  /** The message the API server reports when the rule fails and no messageExpression applies. */
  String fallbackMessage() {
    String message = message();
    return message != null && !message.isEmpty()
        ? message.strip()
        : "failed rule: " + ruleErrorString();
  }

  /** apiextensions' {@code ruleErrorString}: the message if there is one, else the rule. */
  String ruleErrorString() {
    String message = message();
    return message != null && !message.isEmpty() ? message.strip() : rule().strip();
  }

  @Override
  public String toString() {
    String text = rule().length() > 90 ? rule().substring(0, 87) + "..." : rule();
    return crd() + " " + location + ": " + text;
  }

  /**
   * A rule that did not pass for one value.
   *
   * @param rule the rule
   * @param violation what the API server reports
   * @param message the message in the violation: the messageExpression's result, the message, or
   *     {@code failed rule: <rule>}
   * @param problem null when the rule evaluated to false and its message was usable; otherwise what
   *     went wrong (evaluation error, a non-bool result, a messageExpression that failed or gave an
   *     empty or multi-line string, the rule does not compile)
   */
  public record Failure(CelRule rule, Violation violation, String message, String problem) {
    @Override
    public String toString() {
      return violation + (problem == null ? "" : " [" + problem + "]") + " (rule at " + rule + ")";
    }
  }
}
