package io.harborrobot.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** A Harbor robot account and the Kubernetes Secret that carries its credentials. */
@JsonDeserialize(using = TolerantDeserializer.ForHarborRobot.class)
@Group(HarborRobot.GROUP)
@Version(HarborRobot.VERSION)
// Spelled out: fabric8 otherwise derives it with Pluralize's regular expressions in the
// constructor of every instance (4 percent of the operator's CPU in a cold start).
@Plural("harborrobots")
@ShortNames("hrobot")
@Categories("harbor")
@JsonClassDescription(
    "A Harbor robot account, managed through Harbor's API, and the Secret holding its"
        + " credentials.")
@AdditionalPrinterColumn(name = "Project", jsonPath = ".spec.project")
@AdditionalPrinterColumn(name = "Robot", jsonPath = ".status.robotName")
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].status")
@AdditionalPrinterColumn(
    name = "Reason",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].reason")
@AdditionalPrinterColumn(name = "Expires", jsonPath = ".status.expiresAt")
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
@ValidationRule(
    value =
        "has(self.spec.robotName) || self.metadata.name.matches('"
            + HarborRobotSpec.HARBOR_NAME_PATTERN
            + "')",
    message =
        "metadata.name is not a valid Harbor robot name (lower-case letters and digits separated"
            + " by single '.', '_' or '-'): set spec.robotName")
@ValidationRule(
    value =
        "(has(self.spec.robotName) ? self.spec.robotName : self.metadata.name) =="
            + " (has(oldSelf.spec.robotName) ? oldSelf.spec.robotName : oldSelf.metadata.name)",
    message = "spec.robotName is immutable")
@ValidationRule(
    value =
        "!has(self.spec.project) || size(self.spec.project) + size(has(self.spec.robotName) ?"
            + " self.spec.robotName : self.metadata.name) < 255",
    message = "project and robot name together must be shorter than 255 characters")
public class HarborRobot extends TolerantResource<HarborRobotSpec, HarborRobotStatus>
    implements Namespaced {
  public static final String GROUP = "harborrobot.io";
  public static final String VERSION = "v1alpha1";

  /** Required, so that the rules below can rely on it and it can never be removed. */
  @Override
  @Required
  public HarborRobotSpec getSpec() {
    return super.getSpec();
  }

  /** The robot name in Harbor: spec.robotName, else metadata.name. */
  public String effectiveRobotName() {
    String name = getSpec() == null ? null : getSpec().getRobotName();
    return name != null && !name.isBlank() ? name : getMetadata().getName();
  }

  /** The Secret name: spec.secret.name, else metadata.name. */
  public String effectiveSecretName() {
    SecretSpec secret = getSpec() == null ? null : getSpec().getSecret();
    String name = secret == null ? null : secret.getName();
    return name != null && !name.isBlank() ? name : getMetadata().getName();
  }
}
