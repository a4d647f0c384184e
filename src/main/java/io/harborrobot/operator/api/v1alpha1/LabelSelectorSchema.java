package io.harborrobot.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import java.util.List;
import java.util.Map;

/**
 * The CRD schema of a Kubernetes label selector, for {@code @SchemaFrom}: fabric8's {@code
 * LabelSelector} has no descriptions, so {@code kubectl explain} would print none. Only the
 * generator reads this; the model keeps fabric8's {@code LabelSelector} (same JSON shape), which
 * {@code AccessPolicy} evaluates.
 */
record LabelSelectorSchema(
    @JsonPropertyDescription(
            "Labels a namespace must all have, with exactly these values (e.g. tenant: blue).")
        Map<String, String> matchLabels,
    @JsonPropertyDescription(
            "Requirements on a namespace's labels; all must hold, as must matchLabels.")
        List<Requirement> matchExpressions) {

  /** One matchExpressions entry. */
  record Requirement(
      @Required @JsonPropertyDescription("The label key the requirement applies to.") String key,
      @Required
          @JsonPropertyDescription(
              "In: the label's value is one of values. NotIn: the label is missing or its value is"
                  + " not one of values. Exists: the label is set. DoesNotExist: it is not.")
          Operator operator,
      @JsonPropertyDescription(
              "Label values for In and NotIn; leave empty for Exists and DoesNotExist.")
          List<String> values) {}

  /** The operators Kubernetes label selectors know. */
  enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist
  }
}
