package io.harborrobot.operator.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.harborrobot.operator.TestClock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class LeaseWatchdogTest {

  private static final Duration DEADLINE = Duration.ofSeconds(10);
  private static final Instant START = Instant.parse("2026-12-02T08:00:00Z");

  private final TestClock clock = TestClock.fixed(START);
  private final AtomicInteger lost = new AtomicInteger();
  private final AtomicReference<Supplier<Optional<Lease>>> lease = new AtomicReference<>();
  private final LeaseWatchdog watchdog =
      new LeaseWatchdog(() -> lease.get().get(), "me", DEADLINE, clock, lost::incrementAndGet);

  private static Supplier<Optional<Lease>> held(String holder, Instant renewed) {
    return () ->
        Optional.of(
            new LeaseBuilder()
                .withNewSpec()
                .withHolderIdentity(holder)
                .withRenewTime(renewed.atZone(ZoneOffset.UTC))
                .endSpec()
                .build());
  }

  @Test
  void aLeaderThatKeepsRenewingKeepsLeading() {
    for (int i = 0; i < 20; i++) {
      clock.advance(Duration.ofSeconds(2));
      lease.set(held("me", clock.instant().minusSeconds(1)));
      watchdog.check();
    }
    assertThat(lost).hasValue(0);
  }

  @Test
  void anApiServerThatDoesNotAnswerEndsTheLeadershipWithinTheRenewDeadline() {
    lease.set(held("me", START));
    watchdog.check();
    lease.set(
        () -> {
          throw new IllegalStateException("timeout");
        });

    clock.advance(Duration.ofSeconds(8));
    watchdog.check();
    assertThat(lost).as("briefly unreachable: still the leader").hasValue(0);

    clock.advance(Duration.ofSeconds(3));
    watchdog.check();
    watchdog.check();
    assertThat(lost).as("past the renew deadline, once").hasValue(1);
  }

  @Test
  void renewalsThatStopWhileTheLeaseStillNamesThisReplicaEndTheLeadership() {
    lease.set(held("me", START));
    clock.advance(Duration.ofSeconds(9));
    watchdog.check();
    assertThat(lost).hasValue(0);

    clock.advance(Duration.ofSeconds(2));
    watchdog.check();
    assertThat(lost).hasValue(1);
  }

  @Test
  void anotherHolderEndsTheLeadershipAtOnce() {
    lease.set(held("someone-else", START));
    watchdog.check();
    assertThat(lost).hasValue(1);
  }
}
