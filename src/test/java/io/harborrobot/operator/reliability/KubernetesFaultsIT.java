package io.harborrobot.operator.reliability;

import static io.harborrobot.operator.OperatorHarness.decode;
import static io.harborrobot.operator.OperatorHarness.pullRobot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.harborrobot.operator.OperatorHarness;
import io.harborrobot.operator.OperatorHarness.Instance;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.ops.Health;
import io.harborrobot.operator.reconciler.Reasons;
import io.harborrobot.operator.reconciler.RotationPlan;
import io.harborrobot.operator.sandbox.EmulatedRobot;
import io.harborrobot.operator.sandbox.ExchangeObserver;
import io.harborrobot.operator.sandbox.HarborEmulator;
import io.harborrobot.operator.sandbox.InMemoryKubernetes;
import io.harborrobot.operator.secret.CredentialSecrets;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kubernetes-side faults, survived (DESIGN.md §4.1–4.3): update conflicts, a Secret edited between
 * the operator's read and its write, the API server unavailable for a while. Each test runs the
 * real operator against its own in-memory API server, whose faults ({@link
 * InMemoryKubernetes#failNext}, {@link InMemoryKubernetes#editBeforeNext}, {@link
 * InMemoryKubernetes#setUnavailable}) must all have been served by the end.
 *
 * <p>The operator runs as an {@link OperatorHarness#startInstance instance} whose fatal handler (in
 * production: the process exits, e.g. when an informer stops for good) only counts, so that "the
 * operator kept running" is asserted rather than the test JVM halted.
 *
 * <p>An injected 409 on a status write (nothing really changed) makes java-operator-sdk wait for a
 * newer HarborRobot in its cache for 10 s before the reconcile fails and is retried, hence the
 * generous {@link #CONVERGE}.
 */
class KubernetesFaultsIT {

  private static final Logger LOG = LoggerFactory.getLogger(KubernetesFaultsIT.class);

  private static final Duration CONVERGE = Duration.ofSeconds(90);

  /**
   * How long the API server is away in {@link #theApiServerUnavailableDuringCreatesAndRotations}.
   */
  private static final Duration OUTAGE = Duration.ofSeconds(25);

  private final AtomicInteger fatal = new AtomicInteger();
  private OperatorHarness harness;
  private InMemoryKubernetes apiServer;
  private HarborEmulator harbor;
  private Instance operator;

  @BeforeEach
  void start() {
    harness = OperatorHarness.start();
    harness.stopOperator();
    apiServer = harness.apiServer();
    harbor = harness.harbor();
    operator = startOperator();
  }

  private Instance startOperator() {
    return harness.startInstance(config -> config, fatal::incrementAndGet);
  }

  @AfterEach
  void everyFaultWasServedAndTheOperatorStillRuns() {
    try {
      int left = apiServer.pendingFaults();
      apiServer.clearFaults();
      assertThat(left).as("faults injected by the test but never hit").isZero();
      assertThat(fatal).as("times the operator would have exited").hasValue(0);
      // After an outage the informers reconnect with fabric8's backoff (up to 32 s).
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> {
                Health health = operator.runtime().health();
                assertThat(health.problems()).as("unhealthy informers").isEmpty();
                assertThat(health.live()).isTrue();
                assertThat(health.ready()).isTrue();
              });
    } finally {
      operator.close();
      harness.close();
    }
  }

  @Test
  void conflictsOnStatusAndSecretWritesDuringACreateAndARotation() {
    String team = harness.newTeam();
    // The first Secret update of a create is the one that records that Harbor took the password.
    apiServer.failNext("PUT", secretPath(team, "app"), 409, 2);
    apiServer.failNext("PUT", statusPath(team, "app"), 409, 1);

    harness.create(pullRobot(team, "app"));

    awaitConverged(team, "app");
    assertThat(apiServer.pendingFaults()).isZero();
    assertThat(apiServer.faultsServed()).isEqualTo(3);
    assertOneWorkingRobotEach(team, List.of("app"));

    String username = decode(harness.secret(team, "app"), "username");
    String before = decode(harness.secret(team, "app"), "password");
    apiServer.failNext("PUT", secretPath(team, "app"), 409, 2);
    apiServer.failNext("PUT", statusPath(team, "app"), 409, 1);

    requestRotation(team, "app", "after-conflicts");

    awaitRotated(team, "app", before);
    assertThat(apiServer.pendingFaults()).isZero();
    assertThat(apiServer.faultsServed()).isEqualTo(6);
    assertThat(harbor.credentialsWork(username, before)).as("the replaced password").isFalse();
    assertOneWorkingRobotEach(team, List.of("app"));
  }

  @Test
  void aSecretOrRobotEditedBetweenTheOperatorsReadAndItsWrite() {
    String team = harness.newTeam();
    // Create: someone annotates the Secret while Harbor already holds the new password and the
    // operator is about to record that; its update meets a real 409.
    apiServer.editBeforeNext(
        "PUT",
        secretPath(team, "app"),
        Secret.class,
        secret -> {
          secret.getMetadata().getAnnotations().put("backup.example.com/copied", "yes");
          return secret;
        });
    // And someone labels the HarborRobot right before the operator writes its status.
    apiServer.editBeforeNext(
        "PUT",
        statusPath(team, "app"),
        HarborRobot.class,
        robot -> {
          robot.getMetadata().getLabels().put("team", "blue");
          return robot;
        });

    harness.create(pullRobot(team, "app"));

    awaitConverged(team, "app");
    assertThat(apiServer.pendingFaults()).isZero();
    assertThat(apiServer.faultsServed()).isEqualTo(2);
    assertOneWorkingRobotEach(team, List.of("app"));
    assertThat(harness.get(team, "app").getMetadata().getLabels())
        .as("the label set between the operator's read and its status write")
        .containsEntry("team", "blue");

    // Rotation: once the new password is persisted as pending (and about to be, or already, set in
    // Harbor), someone types another password into the Secret before the operator's next write.
    String username = decode(harness.secret(team, "app"), "username");
    String before = decode(harness.secret(team, "app"), "password");
    String typed = "typed-by-hand-" + System.nanoTime();
    apiServer.editBeforeNext(
        "PUT",
        secretPath(team, "app"),
        Secret.class,
        secret -> {
          if (!secret.getData().containsKey(CredentialSecrets.KEY_PENDING_PASSWORD)) {
            return null; // not yet: the rotation has not persisted its password
          }
          secret.getData().put(CredentialSecrets.KEY_PASSWORD, encode(typed));
          return secret;
        });

    requestRotation(team, "app", "edited-mid-write");

    Secret rotated = awaitRotated(team, "app", before);
    assertThat(apiServer.pendingFaults()).isZero();
    assertThat(apiServer.faultsServed()).isEqualTo(3);
    assertThat(decode(rotated, "password")).isNotEqualTo(typed);
    assertThat(harbor.credentialsWork(username, before)).as("the replaced password").isFalse();
    assertThat(harbor.credentialsWork(username, typed)).as("the typed password").isFalse();
    harness.awaitEvent(team, "app", Reasons.CREDENTIAL_REPAIRED);
    assertOneWorkingRobotEach(team, List.of("app"));
  }

  /**
   * The API server goes away right after Harbor took a new robot's or a rotation's password, for
   * {@link #OUTAGE}: longer than the fabric8 client retries a 503 (10 retries, about 19 s), so that
   * calls fail outright and the operator's own recovery is exercised, not only the client's retries
   * (a shorter outage only delays the calls in flight); and watches have to reconnect.
   */
  @Test
  void theApiServerUnavailableDuringCreatesAndRotations() {
    String team = harness.newTeam();
    List<String> existing = List.of("old-0", "old-1", "old-2");
    List<String> created = List.of("new-0", "new-1", "new-2", "new-3");
    existing.forEach(name -> harness.create(pullRobot(team, name)));
    existing.forEach(name -> awaitConverged(team, name));
    Map<String, String> before = new HashMap<>();
    existing.forEach(name -> before.put(name, decode(harness.secret(team, name), "password")));
    String usernamePrefix = "robot$" + team + "+";

    // Everything at once when the operator comes back: two rotations and four creates.
    operator.close();
    requestRotation(team, "old-0", "outage");
    requestRotation(team, "old-1", "outage");
    created.forEach(name -> harness.create(pullRobot(team, name)));

    AtomicBoolean armed = new AtomicBoolean(true);
    AtomicLong outageStarted = new AtomicLong();
    ExchangeObserver contract = harbor.exchangeObserver();
    harbor.setExchangeObserver(
        exchange -> {
          if (contract != null) {
            contract.observe(exchange);
          }
          if ("PATCH".equals(exchange.method())
              && exchange.rawPath().matches(".*/robots/\\d+")
              && exchange.status() == 200
              && armed.compareAndSet(true, false)) {
            outageStarted.set(System.nanoTime());
            apiServer.setUnavailable(true);
          }
        });
    long served;
    Duration lasted;
    try {
      operator = startOperator();
      await().atMost(Duration.ofSeconds(30)).until(() -> apiServer.unavailable());
      await()
          .atMost(OUTAGE.plusSeconds(30))
          .until(() -> System.nanoTime() - outageStarted.get() >= OUTAGE.toNanos());
      served = apiServer.faultsServed();
      lasted = Duration.ofNanos(System.nanoTime() - outageStarted.get());
    } finally {
      apiServer.setUnavailable(false);
      harbor.setExchangeObserver(contract);
    }

    List<String> all = new ArrayList<>(existing);
    all.addAll(created);
    all.forEach(name -> awaitConverged(team, name));
    LOG.info("The outage lasted {}; {} requests were answered 503", lasted, served);
    assertThat(served).as("requests answered 503").isGreaterThanOrEqualTo(20);
    for (String name : List.of("old-0", "old-1")) {
      Secret secret = awaitRotated(team, name, before.get(name));
      assertThat(harbor.credentialsWork(usernamePrefix + name, before.get(name)))
          .as("the replaced password of " + name)
          .isFalse();
      assertThat(secret.getMetadata().getAnnotations())
          .containsEntry(CredentialSecrets.ROTATE_HANDLED, "outage");
    }
    assertThat(decode(harness.secret(team, "old-2"), "password"))
        .as("a robot nobody asked to rotate")
        .isEqualTo(before.get("old-2"));
    assertOneWorkingRobotEach(team, all);
  }

  /**
   * When an operator stops, its informers close their watches; the in-memory API server must go on
   * answering at once (fabric8's mock server stalled every request for 30 s when a watch closed
   * while an event for it was being sent; see {@link InMemoryKubernetes}). Events flow all the time
   * here: the operator's status writes and a Secret it watches, changed in a loop.
   */
  @Test
  void theApiServerAnswersAtOnceWhileAnOperatorStopsWithEventsInFlight() {
    String team = harness.newTeam();
    List<String> names = IntStream.range(0, 10).mapToObj(i -> "r" + i).toList();
    names.forEach(name -> harness.create(pullRobot(team, name)));
    names.forEach(name -> awaitConverged(team, name));
    KubernetesClient writer = apiServer.newClient();
    writer
        .secrets()
        .inNamespace(team)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName("noise")
                .withLabels(
                    Map.of(CredentialSecrets.MANAGED_BY_LABEL, CredentialSecrets.MANAGED_BY_VALUE))
                .endMetadata()
                .withStringData(Map.of("n", "0"))
                .build())
        .create();
    AtomicBoolean writing = new AtomicBoolean(true);
    AtomicInteger writes = new AtomicInteger();
    Thread noise =
        new Thread(
            () -> {
              while (writing.get()) {
                String n = Integer.toString(writes.incrementAndGet());
                writer
                    .secrets()
                    .inNamespace(team)
                    .withName("noise")
                    .edit(s -> new SecretBuilder(s).withStringData(Map.of("n", n)).build());
              }
            },
            "noise-writer");
    noise.setDaemon(true);
    noise.start();
    try {
      for (int round = 0; round < 4; round++) {
        await().atMost(Duration.ofSeconds(30)).until(() -> operator.runtime().health().ready());
        int writesBefore = writes.get();
        await().atMost(Duration.ofSeconds(10)).until(() -> writes.get() > writesBefore + 10);
        operator.close();
        try (KubernetesClient fresh = apiServer.newClient()) {
          int count =
              assertTimeoutPreemptively(
                  Duration.ofSeconds(10),
                  () -> fresh.secrets().inNamespace(team).list().getItems().size(),
                  "a list right after the operator stopped (round " + round + ")");
          assertThat(count).isEqualTo(names.size() + 2); // with harbor-admin and noise
        }
        operator = startOperator();
      }
    } finally {
      writing.set(false);
      await().atMost(Duration.ofSeconds(30)).until(() -> !noise.isAlive());
      writer.close();
    }
    names.forEach(name -> awaitConverged(team, name));
    assertOneWorkingRobotEach(team, names);
  }

  private static String secretPath(String team, String name) {
    return "^/api/v1/namespaces/" + team + "/secrets/" + name + "(\\?|$)";
  }

  private static String statusPath(String team, String name) {
    return "^/apis/harborrobot\\.io/v1alpha1/namespaces/"
        + team
        + "/harborrobots/"
        + name
        + "/status(\\?|$)";
  }

  private static String encode(String value) {
    return Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8));
  }

  private void requestRotation(String team, String name, String value) {
    harness.edit(
        team,
        name,
        robot -> robot.getMetadata().getAnnotations().put(RotationPlan.ROTATE_ANNOTATION, value));
  }

  /**
   * Ready for its current generation, with a Secret that logs in to the registry, and a status that
   * has caught up with the Secret (the same last rotation time).
   */
  private HarborRobot awaitConverged(String team, String name) {
    return await()
        .atMost(CONVERGE)
        .until(
            () -> harness.get(team, name), robot -> converged(robot, harness.secret(team, name)));
  }

  /** Converged, with a password other than {@code before} in the Secret. */
  private Secret awaitRotated(String team, String name, String before) {
    await()
        .atMost(CONVERGE)
        .until(
            () -> {
              Secret secret = harness.secret(team, name);
              return converged(harness.get(team, name), secret)
                  && !before.equals(decode(secret, "password"));
            });
    return harness.secret(team, name);
  }

  private boolean converged(HarborRobot robot, Secret secret) {
    return readyForItsGeneration(robot)
        && secret != null
        && Objects.equals(
            robot.getStatus().getLastRotationTime(),
            secret.getMetadata().getAnnotations().get(CredentialSecrets.ROTATED_AT))
        && harness.dockerConfigLogsIn(secret);
  }

  private static boolean readyForItsGeneration(HarborRobot robot) {
    return OperatorHarness.ready(robot)
        .filter(c -> "True".equals(c.getStatus()))
        .filter(c -> robot.getMetadata().getGeneration().equals(c.getObservedGeneration()))
        .isPresent();
  }

  /**
   * Exactly one Harbor robot per HarborRobot (and none besides) in the team's project, the one its
   * status names; its Secret holds the password Harbor accepts, logs in to the registry, and has
   * nothing half done (no pending password).
   */
  private void assertOneWorkingRobotEach(String team, List<String> names) {
    List<EmulatedRobot> inHarbor =
        harbor.robots().stream().filter(r -> team.equals(r.project())).toList();
    Map<String, Long> perName =
        inHarbor.stream()
            .collect(Collectors.groupingBy(EmulatedRobot::storedName, Collectors.counting()));
    assertThat(perName)
        .as("Harbor robots per name in project " + team)
        .isEqualTo(names.stream().collect(Collectors.toMap(name -> team + "+" + name, name -> 1L)));
    for (String name : names) {
      HarborRobot robot = harness.get(team, name);
      EmulatedRobot own =
          inHarbor.stream()
              .filter(r -> (team + "+" + name).equals(r.storedName()))
              .findFirst()
              .orElseThrow();
      assertThat(robot.getStatus().getRobotId()).as(name + "'s robot id").isEqualTo(own.id());
      Secret secret = harness.secret(team, name);
      assertThat(decode(secret, "username")).isEqualTo(own.fullName());
      assertThat(harbor.credentialsWork(own.fullName(), decode(secret, "password")))
          .as("Harbor accepts the password in Secret " + name)
          .isTrue();
      assertThat(harness.dockerConfigLogsIn(secret)).as(name + " logs in").isTrue();
      assertThat(secret.getData()).doesNotContainKey(CredentialSecrets.KEY_PENDING_PASSWORD);
      assertThat(secret.getMetadata().getAnnotations())
          .doesNotContainKeys(CredentialSecrets.PENDING, CredentialSecrets.CREATE_TOKEN);
    }
  }
}
