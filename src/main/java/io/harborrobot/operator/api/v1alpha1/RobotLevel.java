package io.harborrobot.operator.api.v1alpha1;

/** Where a robot's permissions apply. */
public enum RobotLevel {
  /** A project robot: permissions in one project (spec.project). */
  Project,
  /** A system robot: permissions in several projects (spec.projects), "*" for all of them. */
  System
}
