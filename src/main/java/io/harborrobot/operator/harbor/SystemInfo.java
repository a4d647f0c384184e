package io.harborrobot.operator.harbor;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The part of swagger {@code GeneralInfo} the operator needs. Harbor returns these fields only to
 * authenticated callers. {@code registryUrl} is the docker login host (no scheme).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record SystemInfo(
    @JsonProperty("harbor_version") String harborVersion,
    @JsonProperty("external_url") String externalUrl,
    @JsonProperty("registry_url") String registryUrl) {}
