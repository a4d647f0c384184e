package io.harborrobot.operator.harbor;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.OffsetDateTime;
import java.util.List;

/**
 * A robot as Harbor returns it from GET (swagger {@code Robot}); also the PUT body. {@code name} is
 * the full login name including the prefix. Harbor never returns the secret.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Robot(
    Long id,
    String name,
    String description,
    String level,
    Long duration,
    Boolean editable,
    Boolean disable,
    @JsonProperty("expires_at") Long expiresAt,
    List<RobotPermission> permissions,
    @JsonProperty("creation_time") OffsetDateTime creationTime,
    @JsonProperty("update_time") OffsetDateTime updateTime) {

  /** Unix seconds for "never expires" in {@code expires_at} and days in {@code duration}. */
  public static final long NEVER = -1;

  /** Not a JSON property: Jackson would otherwise send it as {@code "disabled"} in a PUT. */
  @JsonIgnore
  public boolean isDisabled() {
    return Boolean.TRUE.equals(disable);
  }

  /** This robot with another description. */
  public Robot withDescription(String newDescription) {
    return new Robot(
        id,
        name,
        newDescription,
        level,
        duration,
        editable,
        disable,
        expiresAt,
        permissions,
        creationTime,
        updateTime);
  }
}
