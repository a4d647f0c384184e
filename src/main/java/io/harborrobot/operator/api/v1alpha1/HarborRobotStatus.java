package io.harborrobot.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Observed state, written only by the operator. Never holds a secret. */
@com.fasterxml.jackson.annotation.JsonClassDescription(
    "Observed state, written only by the operator. Never holds a secret.")
@JsonInclude(JsonInclude.Include.NON_NULL)
public class HarborRobotStatus {

  @JsonPropertyDescription("The metadata.generation this status describes.")
  private Long observedGeneration;

  @JsonPropertyDescription("Harbor's id of the robot.")
  private Long robotId;

  @JsonPropertyDescription("Full login name as Harbor returns it, e.g. robot$project+name.")
  private String robotName;

  @JsonPropertyDescription("The connection used, as Kind/name.")
  private String connection;

  @JsonPropertyDescription("Name of the Secret holding the credentials.")
  private String secretName;

  @JsonPropertyDescription("When the robot expires (RFC 3339); absent when it never expires.")
  private String expiresAt;

  @JsonPropertyDescription("When the robot's secret was last set (RFC 3339).")
  private String lastRotationTime;

  @JsonPropertyDescription("When the secret will next be rotated (RFC 3339), if scheduled.")
  private String nextRotationTime;

  @JsonPropertyDescription(
      "Conditions in the metav1.Condition shape. Ready summarises the robot and its Secret.")
  private List<Condition> conditions = new ArrayList<>();

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public Long getRobotId() {
    return robotId;
  }

  public void setRobotId(Long robotId) {
    this.robotId = robotId;
  }

  public String getRobotName() {
    return robotName;
  }

  public void setRobotName(String robotName) {
    this.robotName = robotName;
  }

  public String getConnection() {
    return connection;
  }

  public void setConnection(String connection) {
    this.connection = connection;
  }

  public String getSecretName() {
    return secretName;
  }

  public void setSecretName(String secretName) {
    this.secretName = secretName;
  }

  public String getExpiresAt() {
    return expiresAt;
  }

  public void setExpiresAt(String expiresAt) {
    this.expiresAt = expiresAt;
  }

  public String getLastRotationTime() {
    return lastRotationTime;
  }

  public void setLastRotationTime(String lastRotationTime) {
    this.lastRotationTime = lastRotationTime;
  }

  public String getNextRotationTime() {
    return nextRotationTime;
  }

  public void setNextRotationTime(String nextRotationTime) {
    this.nextRotationTime = nextRotationTime;
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof HarborRobotStatus s
        && Objects.equals(observedGeneration, s.observedGeneration)
        && Objects.equals(robotId, s.robotId)
        && Objects.equals(robotName, s.robotName)
        && Objects.equals(connection, s.connection)
        && Objects.equals(secretName, s.secretName)
        && Objects.equals(expiresAt, s.expiresAt)
        && Objects.equals(lastRotationTime, s.lastRotationTime)
        && Objects.equals(nextRotationTime, s.nextRotationTime)
        && Objects.equals(conditions, s.conditions);
  }

  @Override
  public int hashCode() {
    return Objects.hash(robotId, robotName, secretName, conditions);
  }
}
