package io.harborrobot.operator.harbor;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/** One resource/action grant (swagger {@code Access}). {@code effect} may be absent. */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Access(String resource, String action, String effect) {

  public static Access allow(String resource, String action) {
    return new Access(resource, action, "allow");
  }
}
