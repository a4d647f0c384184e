package io.harborrobot.operator.ops;

import io.javaoperatorsdk.operator.RuntimeInfo;
import java.util.List;

/**
 * What the probes report.
 *
 * @param live the operator started and is not stopping: a failing liveness probe restarts the pod
 * @param ready besides, every informer has synced and is watching: a standby replica is ready too,
 *     its caches warm for a take-over
 * @param problems the informers that are not healthy, as {@code controller/event source}
 */
public record Health(boolean live, boolean ready, List<String> problems) {

  /** Before the operator has started (its informers are syncing). */
  public static Health starting() {
    return new Health(false, false, List.of("the operator is starting"));
  }

  static Health of(RuntimeInfo runtime, boolean stopping) {
    if (stopping) {
      return new Health(false, false, List.of("the operator is stopping"));
    }
    if (!runtime.isStarted()) {
      return new Health(false, false, List.of("the operator has not started"));
    }
    List<String> problems =
        runtime.unhealthyEventSources().entrySet().stream()
            .flatMap(
                controller ->
                    controller.getValue().keySet().stream()
                        .map(source -> controller.getKey() + "/" + source))
            .sorted()
            .toList();
    return new Health(true, problems.isEmpty(), problems);
  }
}
