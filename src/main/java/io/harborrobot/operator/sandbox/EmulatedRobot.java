package io.harborrobot.operator.sandbox;

import java.time.Instant;
import java.util.Set;

/**
 * A snapshot of one robot account held by the {@link HarborEmulator}, as a person would see it in
 * the Harbor UI. The secret is never part of it (Harbor keeps only a salted hash).
 *
 * @param id Harbor's robot id
 * @param project the project name for a project robot, {@code null} for a system robot
 * @param storedName the name as Harbor stores it: {@code "<project>+<name>"} or {@code "<name>"}
 * @param fullName the current prefix followed by {@code storedName} (the login name)
 * @param description the description, {@code ""} when none
 * @param level {@code "project"} or {@code "system"}
 * @param duration days, {@code -1} for never
 * @param expiresAt Unix seconds, {@code -1} for never
 * @param disabled whether the robot is disabled
 * @param permissions {@code "resource:action"} pairs: for a project robot those of its project
 *     scope, for a system robot those of all its scopes together
 * @param creationTime when the robot was created
 * @param updateTime when the robot was last changed
 */
public record EmulatedRobot(
    long id,
    String project,
    String storedName,
    String fullName,
    String description,
    String level,
    long duration,
    long expiresAt,
    boolean disabled,
    Set<String> permissions,
    Instant creationTime,
    Instant updateTime) {}
