package io.harborrobot.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** When the robot's secret is replaced (and, for an expiring robot, its lifetime renewed). */
@JsonClassDescription(
    "When the robot's secret is replaced, and an expiring robot renewed. The"
        + " harborrobot.io/rotate annotation asks for a rotation at once.")
public class RotationSpec {

  @Min(1)
  @Max(3649)
  @JsonPropertyDescription(
      "Days before the robot expires when it gets a new secret and a fresh lifetime of"
          + " durationDays. Must be less than durationDays. Default: a third of durationDays, at"
          + " most 7 days. Ignored when the robot never expires.")
  private Integer renewBeforeDays;

  @Default("0")
  @Min(0)
  @Max(3650)
  @JsonPropertyDescription(
      "Replace the secret at least this often, in days, even when the robot never expires."
          + " 0 (default) turns it off.")
  private Integer everyDays = 0;

  public Integer getRenewBeforeDays() {
    return renewBeforeDays;
  }

  public void setRenewBeforeDays(Integer renewBeforeDays) {
    this.renewBeforeDays = renewBeforeDays;
  }

  public Integer getEveryDays() {
    return everyDays;
  }

  public void setEveryDays(Integer everyDays) {
    this.everyDays = everyDays;
  }
}
