package io.harborrobot.operator.reconciler;

import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The result of checking a HarborRobot's spec, remembered per resource and generation. The API
 * server bumps {@code metadata.generation} at every change of the spec, so a resync or a
 * status-only event of an unchanged robot reuses the result instead of checking the spec against
 * the CRD's schema and CEL rules again: that check was a tenth of the operator's CPU in a cold
 * start (docs/performance.md) and is most of what a resync of an unchanged robot computes.
 */
final class ValidatedSpecs {

  private record Checked(long generation, List<String> problems) {}

  private final Function<HarborRobot, List<String>> check;
  private final Map<String, Checked> byUid = new ConcurrentHashMap<>();

  ValidatedSpecs(Function<HarborRobot, List<String>> check) {
    this.check = check;
  }

  /** The spec's problems, as {@code check} finds them; empty when it is valid. */
  List<String> problems(HarborRobot robot) {
    String uid = robot.getMetadata().getUid();
    Long generation = robot.getMetadata().getGeneration();
    if (uid == null || generation == null) {
      // Not from an API server (a test's object): nothing to key the result on.
      return check.apply(robot);
    }
    Checked known = byUid.get(uid);
    if (known != null && known.generation() == generation) {
      return known.problems();
    }
    List<String> problems = List.copyOf(check.apply(robot));
    byUid.put(uid, new Checked(generation, problems));
    return problems;
  }

  /** Drops what is remembered for a resource being deleted. */
  void forget(String uid) {
    if (uid != null) {
      byUid.remove(uid);
    }
  }

  /** How many resources have a result remembered. */
  int size() {
    return byUid.size();
  }
}
