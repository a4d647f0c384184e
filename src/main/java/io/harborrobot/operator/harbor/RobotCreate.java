package io.harborrobot.operator.harbor;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * Body of POST /robots (swagger {@code RobotCreate}). Harbor ignores {@code secret} and {@code
 * disable} on create, so this record does not carry them: set the secret with PATCH and disable
 * with PUT afterwards.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RobotCreate(
    String name,
    String description,
    String level,
    long duration,
    List<RobotPermission> permissions) {}
