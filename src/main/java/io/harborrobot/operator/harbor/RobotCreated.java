package io.harborrobot.operator.harbor;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.OffsetDateTime;

/**
 * The 201 body of POST /robots (swagger {@code RobotCreated}). {@code secret} is Harbor's generated
 * secret, shown this once; {@link RobotSecret} keeps it out of logs.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record RobotCreated(
    long id,
    String name,
    RobotSecret secret,
    @JsonProperty("creation_time") OffsetDateTime creationTime,
    @JsonProperty("expires_at") Long expiresAt) {}
