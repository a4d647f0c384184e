package io.harborrobot.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** When a credential's scheduled check is due. */
class CredentialChecksTest {

  private static final Duration PERIOD = Duration.ofMinutes(10);
  private static final Instant RESYNC = Instant.parse("2026-12-02T10:00:00Z");

  private final CredentialChecks checks = new CredentialChecks(PERIOD);

  @Test
  void aCheckMadeLateInOneResyncIsDueAtTheResyncOnePeriodLater() {
    // The login came 300 ms into the reconcile; one period later the reconcile gets there sooner.
    checks.record("uid", "credential", RESYNC.plusMillis(300), true);

    assertThat(checks.due("uid", "credential", RESYNC.plus(PERIOD).plusMillis(40))).isTrue();
  }

  @Test
  void aCheckIsNotDueEarlierThanATwentiethOfThePeriodBeforeItsTime() {
    checks.record("uid", "credential", RESYNC, true);

    assertThat(checks.due("uid", "credential", RESYNC.plus(Duration.ofMinutes(9)))).isFalse();
    assertThat(checks.due("uid", "credential", RESYNC.plus(Duration.ofSeconds(570)))).isTrue();
  }

  @Test
  void anotherCredentialOrARefusalIsDueAtOnce() {
    checks.record("uid", "credential", RESYNC, true);
    assertThat(checks.due("uid", "new password", RESYNC.plusSeconds(1))).isTrue();

    checks.record("uid", "credential", RESYNC, false);
    assertThat(checks.due("uid", "credential", RESYNC.plusSeconds(1))).isTrue();
  }
}
