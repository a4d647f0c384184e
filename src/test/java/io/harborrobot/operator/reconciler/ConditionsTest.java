package io.harborrobot.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.harborrobot.operator.api.v1alpha1.Condition;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConditionsTest {

  private static final Instant T1 = Instant.parse("2026-01-01T00:00:00Z");
  private static final Instant T2 = Instant.parse("2026-01-02T00:00:00Z");

  @Test
  void theTransitionTimeMovesOnlyWhenTheStatusChanges() {
    List<Condition> first =
        Conditions.set(List.of(), "Ready", false, "HarborUnreachable", "down", 1L, T1);
    List<Condition> sameStatus =
        Conditions.set(first, "Ready", false, "HarborError", "500", 2L, T2);
    List<Condition> flipped = Conditions.set(sameStatus, "Ready", true, "Synced", "ok", 2L, T2);

    assertThat(sameStatus)
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.getLastTransitionTime()).isEqualTo(T1.toString());
              assertThat(c.getReason()).isEqualTo("HarborError");
              assertThat(c.getObservedGeneration()).isEqualTo(2L);
            });
    assertThat(flipped)
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.getStatus()).isEqualTo("True");
              assertThat(c.getLastTransitionTime()).isEqualTo(T2.toString());
            });
  }

  @Test
  void otherConditionsAreKept() {
    List<Condition> start =
        List.of(new Condition("SecretReady", "True", "Written", "", 1L, T1.toString()));
    assertThat(Conditions.set(start, "Ready", true, "Synced", "ok", 1L, T2))
        .extracting(Condition::getType)
        .containsExactly("SecretReady", "Ready");
  }
}
