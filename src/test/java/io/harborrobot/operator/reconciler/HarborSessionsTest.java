package io.harborrobot.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.harborrobot.operator.TestClock;
import io.harborrobot.operator.TestRobots;
import io.harborrobot.operator.api.v1alpha1.HarborConnection;
import io.harborrobot.operator.api.v1alpha1.HarborConnectionSpec;
import io.harborrobot.operator.api.v1alpha1.SecretReference;
import io.harborrobot.operator.harbor.OkHttpHarborClientFactory;
import io.harborrobot.operator.sandbox.HarborEmulator;
import io.harborrobot.operator.sandbox.InMemoryKubernetes;
import io.harborrobot.operator.sandbox.Sandbox;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** One session per connection, renewed once however many reconciles find it due together. */
class HarborSessionsTest {

  private static final Duration MAX_AGE = Duration.ofMinutes(5);
  private static final String SYSTEMINFO = "GET /api/v2.0/systeminfo";

  private final HarborEmulator harbor = HarborEmulator.start();
  private final InMemoryKubernetes kubernetes = InMemoryKubernetes.start();
  private final TestClock clock = TestClock.fixed(Instant.parse("2026-12-02T10:00:00Z"));
  private final OkHttpHarborClientFactory clients =
      new OkHttpHarborClientFactory(new SimpleMeterRegistry());
  private final ExecutorService reconciles = Executors.newFixedThreadPool(16);

  @AfterEach
  void stop() {
    reconciles.shutdownNow();
    clients.close();
    kubernetes.close();
    harbor.close();
  }

  @Test
  void reconcilesThatFindTheSessionDueAtTheSameMomentRenewItOnce() throws Exception {
    ResolvedConnection connection = connection();
    HarborSessions sessions = new HarborSessions(kubernetes.client(), clients, clock, MAX_AGE);
    HarborSession first = sessions.sessionFor(TestRobots.pullRobot("team", "robot-0"), connection);
    assertThat(sessions.sessionFor(TestRobots.pullRobot("team", "robot-1"), connection))
        .isSameAs(first);
    clock.advance(MAX_AGE);
    // Slow enough that every reconcile below finds the session due before the first renewal ends.
    harbor.setLatency(Duration.ofMillis(300));

    CountDownLatch due = new CountDownLatch(1);
    List<Future<HarborSession>> renewals = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      String name = "robot-" + i;
      renewals.add(
          reconciles.submit(
              () -> {
                due.await();
                return sessions.sessionFor(TestRobots.pullRobot("team", name), connection);
              }));
    }
    due.countDown();
    Set<HarborSession> renewed = new HashSet<>();
    for (Future<HarborSession> renewal : renewals) {
      renewed.add(renewal.get());
    }

    assertThat(renewed).hasSize(1).doesNotContain(first);
    assertThat(harbor.requestCountsByRoute().get(SYSTEMINFO))
        .as("the first session's and one renewal's")
        .isEqualTo(2);
  }

  private ResolvedConnection connection() {
    kubernetes
        .client()
        .secrets()
        .inNamespace("team")
        .resource(Sandbox.adminCredentials("harbor-admin"))
        .create();
    HarborConnection connection = new HarborConnection();
    connection.getMetadata().setName("harbor");
    connection.getMetadata().setNamespace("team");
    connection.getMetadata().setUid("connection-uid");
    connection.getMetadata().setGeneration(1L);
    HarborConnectionSpec spec = new HarborConnectionSpec();
    spec.setUrl(harbor.baseUrl());
    spec.setCredentialsSecretRef(new SecretReference("harbor-admin"));
    connection.setSpec(spec);
    return ResolvedConnection.of(connection);
  }
}
