package io.harborrobot.operator.harbor;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/** The part of swagger {@code Project} the operator needs. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Project(@JsonProperty("project_id") long projectId, String name) {}
