package io.harborrobot.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnore;
import io.fabric8.kubernetes.client.CustomResource;
import java.util.List;

/**
 * This operator's custom resources: read by {@link TolerantDeserializer}, which records here what
 * did not fit the model.
 */
public abstract class TolerantResource<S, T> extends CustomResource<S, T> implements ReadProblems {

  @JsonIgnore private List<String> readProblems = List.of();

  @Override
  public List<String> readProblems() {
    return readProblems;
  }

  @Override
  public void recordReadProblems(List<String> problems) {
    readProblems = List.copyOf(problems);
  }
}
