package io.harborrobot.operator.harbor;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * A permission scope (swagger {@code RobotPermission}): kind "project" with the project name as
 * namespace, or kind "system" with namespace "/".
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RobotPermission(String kind, String namespace, List<Access> access) {}
