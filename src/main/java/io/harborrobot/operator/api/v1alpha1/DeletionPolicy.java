package io.harborrobot.operator.api.v1alpha1;

/** What happens to the robot in Harbor when its HarborRobot is deleted. */
public enum DeletionPolicy {
  /** Delete the robot in Harbor. */
  Delete,
  /** Keep the robot in Harbor; only the Kubernetes objects go. */
  Orphan
}
