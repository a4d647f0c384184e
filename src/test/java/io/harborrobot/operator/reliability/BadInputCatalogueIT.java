package io.harborrobot.operator.reliability;

import static io.harborrobot.operator.OperatorHarness.pullRobot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.harborrobot.operator.OperatorHarness;
import io.harborrobot.operator.api.v1alpha1.ClusterHarborConnection;
import io.harborrobot.operator.api.v1alpha1.Condition;
import io.harborrobot.operator.api.v1alpha1.HarborConnection;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.config.OperatorConfig;
import io.harborrobot.operator.harbor.ClientSettings;
import io.harborrobot.operator.harbor.HarborClientFactory;
import io.harborrobot.operator.harbor.OkHttpHarborClientFactory;
import io.harborrobot.operator.ops.Health;
import io.harborrobot.operator.ops.OperatorMetrics;
import io.harborrobot.operator.ops.OperatorRuntime;
import io.harborrobot.operator.reliability.BadInputCatalogue.Case;
import io.harborrobot.operator.reliability.BadInputCatalogue.Outcome;
import io.harborrobot.operator.sandbox.Sandbox;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The bad-input catalogue ({@link BadInputCatalogue}) against the real operator: the cases an API
 * server admits all at once, next to good robots, and objects an API server would refuse written
 * into the in-memory API server (which does not validate) as they are.
 *
 * <p>The operators run as {@link OperatorHarness#startInstance instances} whose fatal handler (in
 * production: the process exits when an informer stops for good) only counts, so that "the operator
 * kept running" is asserted rather than the test JVM halted. The class's operator, shared by the
 * first two tests, also reads each connection's CA bundle as production does (see {@link
 * #startOperator}); the tests of objects that stop an informer start operators of their own.
 */
class BadInputCatalogueIT {

  /** How long a good robot may take, with the bad cases reconciled alongside. */
  private static final Duration NORMAL_TIME = Duration.ofSeconds(30);

  private static final AtomicInteger FATAL = new AtomicInteger();

  private static final List<Case> CASES = BadInputCatalogue.load();

  private static OperatorHarness harness;
  private static OperatorHarness.Instance operator;

  @BeforeAll
  static void start() {
    harness = OperatorHarness.start();
    harness.stopOperator();
    operator = startOperator(harness, FATAL::incrementAndGet);
  }

  @AfterEach
  void operatorStillRuns() {
    assertThat(FATAL.get()).as("times the operator would have exited").isZero();
    Health health = operator.runtime().health();
    assertThat(health.problems()).as("unhealthy informers").isEmpty();
    assertThat(health.live()).isTrue();
    assertThat(health.ready()).isTrue();
  }

  @AfterAll
  static void stop() {
    if (operator != null) {
      operator.close();
    }
    harness.close();
  }

  @Test
  void everyAdmittedCaseGetsItsReasonAndAWarningWhileGoodRobotsBecomeReadyInNormalTime() {
    List<Case> cases = CASES.stream().filter(c -> c.outcome() == Outcome.REASON).toList();
    assertThat(cases).hasSizeGreaterThan(10);
    setUp(cases);
    List<String> goodTeams = List.of(harness.newTeam(), harness.newTeam(), harness.newTeam());

    // All at once: a good robot first, one in the middle and one last.
    Map<String, Long> createdAt = new LinkedHashMap<>();
    createGood(goodTeams.get(0), createdAt);
    for (int i = 0; i < cases.size(); i++) {
      cases.get(i).documents().forEach(BadInputCatalogueIT::apply);
      if (i == cases.size() / 2) {
        createGood(goodTeams.get(1), createdAt);
      }
    }
    createGood(goodTeams.get(2), createdAt);

    // Each good robot's time from its creation to Ready (an upper bound: they are polled in turn).
    Map<String, Long> tookMillis = new LinkedHashMap<>();
    for (String team : goodTeams) {
      await().atMost(NORMAL_TIME).until(() -> isReady(harness.get(team, "good")));
      tookMillis.put(team, (System.nanoTime() - createdAt.get(team)) / 1_000_000);
      assertThat(harness.dockerConfigLogsIn(harness.secret(team, "good"))).isTrue();
    }
    assertThat(tookMillis.values()).allMatch(ms -> ms < NORMAL_TIME.toMillis());

    List<String> wrong = new ArrayList<>();
    for (Case c : cases) {
      Map<String, Object> robot = c.robots().get(0);
      String namespace = BadInputCatalogue.namespace(robot);
      String name = BadInputCatalogue.name(robot);
      HarborRobot reported = harness.awaitReason(namespace, name, c.expected());
      Condition ready = OperatorHarness.ready(reported).orElseThrow();
      if (!"False".equals(ready.getStatus())) {
        wrong.add(c + ": Ready=" + ready.getStatus());
      }
      await()
          .atMost(NORMAL_TIME)
          .untilAsserted(
              () ->
                  assertThat(harness.events(namespace, name))
                      .as("%s: a Warning Event %s", c, c.expected())
                      .anyMatch(
                          e ->
                              "Warning".equals(e.getType()) && c.expected().equals(e.getReason())));
      assertThat(harness.events(namespace, name))
          .as("%s: no Normal Event (nothing was created)", c)
          .extracting(Event::getType)
          .doesNotContain("Normal");
    }
    assertThat(wrong).isEmpty();
    System.out.printf(
        "bad-input: %d admitted cases reported; good robots Ready after %s ms%n",
        cases.size(), tookMillis.values());
  }

  /**
   * Where the CRD's validation is not enforced (a CRD installed without its schema, an API server
   * like the in-memory one), the operator's own checks are all that stands between a rejected spec
   * and Harbor: each readable rejected HarborRobot of the catalogue, stored as it is, gets the
   * reason its {@code unvalidated} line names, and a good robot next to them is Ready in normal
   * time.
   */
  @Test
  @SuppressWarnings("unchecked")
  void rejectedRobotsANonValidatingApiServerStoresGetTheOperatorsOwnVerdict() {
    List<Case> cases = CASES.stream().filter(c -> c.unvalidated() != null).toList();
    assertThat(cases).hasSizeGreaterThan(30);
    Map<Case, String> namespaces = new LinkedHashMap<>();
    for (Case c : cases) {
      namespaces.put(c, harness.newTeam());
    }
    String good = harness.newTeam();

    Duration goodTook = writeRawWithAGoodRobotAmongThem(cases, namespaces, good);

    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              List<String> wrong = new ArrayList<>();
              for (Case c : cases) {
                String name = BadInputCatalogue.name(c.robots().get(0));
                HarborRobot robot = harness.get(namespaces.get(c), name);
                Condition ready = OperatorHarness.ready(robot).orElse(null);
                String actual = ready == null ? "no Ready condition" : ready.getReason();
                if (ready != null
                    && !robot.getMetadata().getGeneration().equals(ready.getObservedGeneration())) {
                  actual += " (for an older generation)";
                }
                if (!c.unvalidated().equals(actual)) {
                  wrong.add(c + ": expected " + c.unvalidated() + ", is " + actual);
                }
              }
              assertThat(wrong).as("robots without the expected reason").isEmpty();
            });
    System.out.printf(
        "bad-input: %d rejected robots stored as they are got their reasons; good robot Ready"
            + " after %d ms%n",
        cases.size(), goodTook.toMillis());
  }

  /**
   * Objects the model cannot read strictly ({@code model: unreadable}: wrong types, unknown enum
   * values, unknown fields), stored as they are: each HarborRobot is reported InvalidSpec naming
   * the field, a robot on an unreadable connection InvalidConnection, nothing is sent to Harbor for
   * them, what the user wrote stays as written, a good robot next to them is Ready in normal time,
   * and an operator restarted with them all in place starts and works.
   */
  @Test
  @SuppressWarnings("unchecked")
  void unreadableObjectsAreReportedAndNeitherStopNorDelayTheOperator() {
    List<Case> cases = CASES.stream().filter(Case::unreadable).toList();
    List<Case> robotCases = cases.stream().filter(c -> !c.robots().isEmpty()).toList();
    assertThat(robotCases).hasSizeGreaterThan(10);
    Map<Case, String> namespaces = new LinkedHashMap<>();
    for (Case c : robotCases) {
      namespaces.put(c, harness.newTeam());
    }
    String good = harness.newTeam();
    // The connection cases: each stored under a name of its own, with a robot that uses it.
    Map<String, String> robotOnConnection = new LinkedHashMap<>();
    for (Case c : cases) {
      for (Map<String, Object> document : c.documents()) {
        String kind = (String) document.get("kind");
        if (!kind.endsWith("HarborConnection")) {
          continue;
        }
        String team = harness.newTeam();
        Map<String, Object> connection = (Map<String, Object>) retarget(document, team);
        String name = "unreadable-" + team;
        ((Map<String, Object>) connection.get("metadata")).put("name", name);
        writeRaw(connection);
        HarborRobot robot = pullRobot(team, "uses-" + name);
        robot.getSpec().getConnectionRef().setName(name);
        if (kind.equals("ClusterHarborConnection")) {
          robot
              .getSpec()
              .getConnectionRef()
              .setKind(io.harborrobot.operator.api.v1alpha1.ConnectionKind.ClusterHarborConnection);
        }
        harness.create(robot);
        robotOnConnection.put(team, robot.getMetadata().getName());
      }
    }
    assertThat(robotOnConnection).hasSize(2);
    int harborRobotsBefore = harness.harbor().robots().size();

    Duration goodTook = writeRawWithAGoodRobotAmongThem(robotCases, namespaces, good);

    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              List<String> wrong = new ArrayList<>();
              for (Case c : robotCases) {
                String name = BadInputCatalogue.name(c.robots().get(0));
                Condition ready =
                    OperatorHarness.ready(harness.get(namespaces.get(c), name)).orElse(null);
                if (ready == null
                    || !"InvalidSpec".equals(ready.getReason())
                    || !ready.getMessage().contains(BadInputCatalogue.refusedField(c.expected()))) {
                  wrong.add(c + ": " + (ready == null ? "no Ready condition" : ready.getMessage()));
                }
              }
              robotOnConnection.forEach(
                  (team, name) -> {
                    Condition ready = OperatorHarness.ready(harness.get(team, name)).orElse(null);
                    if (ready == null
                        || !"InvalidConnection".equals(ready.getReason())
                        || !ready.getMessage().contains("cannot be read by this operator")) {
                      wrong.add(
                          team + "/" + name + ": " + (ready == null ? "none" : ready.getMessage()));
                    }
                  });
              assertThat(wrong).as("objects without the expected report").isEmpty();
            });
    // Nothing reached Harbor for them (the good robot is the only new one) ...
    assertThat(harness.harbor().robots()).hasSize(harborRobotsBefore + 1);
    // ... and what the user wrote is still there as written, for them to correct.
    Case durationCase =
        robotCases.stream()
            .filter(c -> c.file().contains("duration-days-not-a-number"))
            .findAny()
            .orElseThrow();
    GenericKubernetesResource stored =
        harness
            .client()
            .genericKubernetesResources(
                HarborRobot.GROUP + "/" + HarborRobot.VERSION, "HarborRobot")
            .inNamespace(namespaces.get(durationCase))
            .withName(BadInputCatalogue.name(durationCase.robots().get(0)))
            .get();
    assertThat(((Map<String, Object>) stored.getAdditionalProperties().get("spec")))
        .containsEntry("durationDays", "abc");

    // A restart with every one of them in place: the informers start, the operator works.
    operator.close();
    operator = startOperator(harness, FATAL::incrementAndGet);
    String afterRestart = harness.newTeam();
    harness.create(pullRobot(afterRestart, "good"));
    await().atMost(NORMAL_TIME).until(() -> isReady(harness.get(afterRestart, "good")));
    assertThat(harness.dockerConfigLogsIn(harness.secret(afterRestart, "good"))).isTrue();

    // Deleting them needs nothing from Harbor: they are gone at once.
    for (Case c : robotCases) {
      harness
          .client()
          .resources(HarborRobot.class)
          .inNamespace(namespaces.get(c))
          .withName(BadInputCatalogue.name(c.robots().get(0)))
          .delete();
    }
    await()
        .atMost(NORMAL_TIME)
        .untilAsserted(
            () ->
                assertThat(
                        robotCases.stream()
                            .filter(
                                c ->
                                    harness.get(
                                            namespaces.get(c),
                                            BadInputCatalogue.name(c.robots().get(0)))
                                        != null)
                            .toList())
                    .as("HarborRobots still there")
                    .isEmpty());
    System.out.printf(
        "bad-input: %d unreadable robots and %d robots on unreadable connections reported;"
            + " good robot Ready after %d ms%n",
        robotCases.size(), robotOnConnection.size(), goodTook.toMillis());
  }

  /**
   * A working robot whose stored spec is later changed into one the model cannot read (only
   * possible where the CRD's schema is not enforced) keeps its robot and Secret, reports the field,
   * and when deleted leaves the robot in Harbor rather than guess its deletionPolicy.
   */
  @Test
  @SuppressWarnings("unchecked")
  void aWorkingRobotEditedIntoAnUnreadableOneKeepsItsRobotAndIsNotDeletedOnAGuess() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "edited"));
    harness.awaitReady(team, "edited");
    Secret secret = harness.secret(team, "edited");
    long robotId = harness.get(team, "edited").getStatus().getRobotId();

    var robots =
        harness
            .client()
            .genericKubernetesResources(
                HarborRobot.GROUP + "/" + HarborRobot.VERSION, "HarborRobot")
            .inNamespace(team);
    // Read and write again when the operator's own status write came in between (a 409).
    await()
        .atMost(NORMAL_TIME)
        .ignoreExceptionsInstanceOf(KubernetesClientException.class)
        .until(
            () -> {
              GenericKubernetesResource raw = robots.withName("edited").get();
              ((Map<String, Object>) raw.getAdditionalProperties().get("spec"))
                  .put("deletionPolicy", "Retain");
              raw.getMetadata().setGeneration(raw.getMetadata().getGeneration() + 1);
              robots.resource(raw).update();
              return true;
            });

    HarborRobot reported = harness.awaitReason(team, "edited", "InvalidSpec");
    assertThat(OperatorHarness.ready(reported).orElseThrow().getMessage())
        .contains("spec.deletionPolicy: Unsupported value: \"Retain\"");
    assertThat(harness.harbor().robot(robotId)).isPresent();
    assertThat(harness.dockerConfigLogsIn(harness.secret(team, "edited"))).isTrue();
    assertThat(harness.secret(team, "edited").getData()).isEqualTo(secret.getData());

    robots.withName("edited").delete();
    await().atMost(NORMAL_TIME).until(() -> harness.get(team, "edited") == null);
    assertThat(harness.harbor().robot(robotId)).as("left in Harbor").isPresent();
    assertThat(harness.events(team, "edited"))
        .anyMatch(
            e ->
                "Orphaned".equals(e.getReason())
                    && e.getMessage().contains("could not read the whole spec"));
  }

  // ------------------------------------------------------------------------------------------
  // Helpers
  // ------------------------------------------------------------------------------------------

  /**
   * The operator as {@link OperatorHarness#startInstance} starts it, but with a Harbor client
   * factory that first builds the client production would build for the connection (its URL, its CA
   * bundle, no request sent) and only then one for the emulator: {@link Sandbox#servedBy}'s
   * redirection to the emulator drops the CA bundle, so a bundle that is not PEM would otherwise go
   * unnoticed.
   */
  private static OperatorHarness.Instance startOperator(OperatorHarness on, Runnable onFatal) {
    KubernetesClient client = on.apiServer().newClient();
    PrometheusMeterRegistry meters = OperatorMetrics.newRegistry();
    OkHttpHarborClientFactory production =
        new OkHttpHarborClientFactory(
            ClientSettings.defaults().withRetry(OperatorHarness.FAST_RETRY), meters);
    String emulator = on.harbor().baseUrl();
    HarborClientFactory clients =
        endpoint -> {
          production.create(endpoint); // IllegalArgumentException for a CA bundle it cannot read
          return production.create(endpoint.at(emulator));
        };
    OperatorConfig config =
        OperatorConfig.defaults()
            .withResyncPeriod(OperatorHarness.RESYNC)
            .withRetry(Duration.ofMillis(200), Duration.ofSeconds(2))
            .withCredentialCheckPeriod(OperatorHarness.CREDENTIAL_CHECKS)
            .withConnectionCheckPeriod(OperatorHarness.CONNECTION_CHECKS);
    OperatorRuntime runtime =
        OperatorRuntime.start(client, clients, config, on.clock(), meters, onFatal);
    return new OperatorHarness.Instance(runtime, client, meters);
  }

  /**
   * The namespaces the cases name, each with a Harbor project of the same name and a
   * HarborConnection "harbor" ({@link OperatorHarness#newTeam(String)}); the Secret the cases'
   * ClusterHarborConnections read; the robots their {@code given} lines ask for.
   */
  private static void setUp(List<Case> cases) {
    Set<String> namespaces = new LinkedHashSet<>();
    for (Case c : cases) {
      for (Map<String, Object> document : c.documents()) {
        String namespace = BadInputCatalogue.namespace(document);
        if (namespace != null && !namespace.equals(OperatorHarness.OPERATOR_NAMESPACE)) {
          namespaces.add(namespace);
        }
      }
    }
    namespaces.forEach(harness::newTeam);
    harness
        .client()
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName(OperatorHarness.OPERATOR_NAMESPACE)
                .endMetadata()
                .build())
        .createOr(existing -> existing.update());
    harness
        .client()
        .secrets()
        .inNamespace(OperatorHarness.OPERATOR_NAMESPACE)
        .resource(Sandbox.adminCredentials("harbor-admin"))
        .createOr(existing -> existing.update());
    for (Case c : cases) {
      for (String given : c.given()) {
        String[] robot = given.substring("harbor-robot: ".length()).split("/");
        harness.harbor().createRobotByHand(robot[0], robot[1], Set.of("repository:pull"), -1);
      }
    }
  }

  private static final Map<String, Class<? extends HasMetadata>> KINDS =
      Map.of(
          "Secret", Secret.class,
          "HarborConnection", HarborConnection.class,
          "ClusterHarborConnection", ClusterHarborConnection.class,
          "HarborRobot", HarborRobot.class);

  /** Creates a document of a case, as kubectl create would. */
  private static void apply(Map<String, Object> document) {
    Class<? extends HasMetadata> type = KINDS.get((String) document.get("kind"));
    assertThat(type).as("a kind the test knows: %s", document.get("kind")).isNotNull();
    harness.client().resource(Serialization.jsonMapper().convertValue(document, type)).create();
  }

  private static void createGood(String team, Map<String, Long> createdAt) {
    createdAt.put(team, System.nanoTime());
    harness.create(pullRobot(team, "good"));
  }

  private static boolean isReady(HarborRobot robot) {
    if (robot == null) {
      return false;
    }
    return OperatorHarness.ready(robot)
        .filter(c -> "True".equals(c.getStatus()))
        .filter(c -> robot.getMetadata().getGeneration().equals(c.getObservedGeneration()))
        .isPresent();
  }

  /**
   * Writes {@code document} into the API server as it is, the way a non-validating one takes it.
   */
  private static GenericKubernetesResource writeRaw(Map<String, Object> document) {
    return writeRaw(harness, document);
  }

  private static GenericKubernetesResource writeRaw(
      OperatorHarness into, Map<String, Object> document) {
    GenericKubernetesResource raw =
        Serialization.jsonMapper().convertValue(document, GenericKubernetesResource.class);
    var resources = into.client().genericKubernetesResources(raw.getApiVersion(), raw.getKind());
    String namespace = raw.getMetadata().getNamespace();
    return (namespace == null ? resources : resources.inNamespace(namespace))
        .resource(raw)
        .create();
  }

  /**
   * Writes each case's HarborRobot, as it is, into its namespace, and a good robot in {@code good}
   * halfway through; returns how long from the first write the good robot took to be Ready.
   */
  @SuppressWarnings("unchecked")
  private static Duration writeRawWithAGoodRobotAmongThem(
      List<Case> cases, Map<Case, String> namespaces, String good) {
    long started = System.nanoTime();
    for (Case c : cases) {
      writeRaw((Map<String, Object>) retarget(c.robots().get(0), namespaces.get(c)));
      if (c == cases.get(cases.size() / 2)) {
        harness.create(pullRobot(good, "good"));
      }
    }
    await().atMost(NORMAL_TIME).until(() -> isReady(harness.get(good, "good")));
    return Duration.ofNanos(System.nanoTime() - started);
  }

  /** {@code document} with every string "team-a" (namespace, project) replaced by {@code team}. */
  @SuppressWarnings("unchecked")
  private static Object retarget(Object value, String team) {
    if (value instanceof Map<?, ?> map) {
      Map<String, Object> copy = new LinkedHashMap<>();
      map.forEach((k, v) -> copy.put((String) k, retarget(v, team)));
      return copy;
    }
    if (value instanceof List<?> list) {
      return list.stream().map(v -> retarget(v, team)).toList();
    }
    return "team-a".equals(value) ? team : value;
  }
}
