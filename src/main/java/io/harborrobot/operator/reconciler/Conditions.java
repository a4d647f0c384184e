package io.harborrobot.operator.reconciler;

import io.harborrobot.operator.api.v1alpha1.Condition;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** metav1.Condition bookkeeping: lastTransitionTime moves only when the status changes. */
public final class Conditions {

  public static final String READY = "Ready";

  private Conditions() {}

  public static Optional<Condition> find(List<Condition> conditions, String type) {
    return conditions == null
        ? Optional.empty()
        : conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  /** Returns {@code conditions} with {@code type} set, keeping the others. */
  public static List<Condition> set(
      List<Condition> conditions,
      String type,
      boolean status,
      String reason,
      String message,
      Long generation,
      Instant now) {
    String statusText = status ? "True" : "False";
    Optional<Condition> previous = find(conditions, type);
    String transition =
        previous
            .filter(p -> statusText.equals(p.getStatus()) && p.getLastTransitionTime() != null)
            .map(Condition::getLastTransitionTime)
            .orElse(now.toString());
    List<Condition> result = new ArrayList<>();
    if (conditions != null) {
      conditions.stream().filter(c -> !type.equals(c.getType())).forEach(result::add);
    }
    result.add(new Condition(type, statusText, reason, message, generation, transition));
    return result;
  }
}
