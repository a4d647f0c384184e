package io.harborrobot.operator;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.harborrobot.operator.api.v1alpha1.AccessRule;
import io.harborrobot.operator.api.v1alpha1.ClusterHarborConnection;
import io.harborrobot.operator.api.v1alpha1.ClusterHarborConnectionSpec;
import io.harborrobot.operator.api.v1alpha1.Condition;
import io.harborrobot.operator.api.v1alpha1.HarborConnection;
import io.harborrobot.operator.api.v1alpha1.HarborConnectionSpec;
import io.harborrobot.operator.api.v1alpha1.HarborConnectionStatus;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.SecretReference;
import io.harborrobot.operator.config.OperatorConfig;
import io.harborrobot.operator.harbor.ClientSettings;
import io.harborrobot.operator.harbor.HarborClientFactory;
import io.harborrobot.operator.harbor.OkHttpHarborClientFactory;
import io.harborrobot.operator.harbor.RetryPolicy;
import io.harborrobot.operator.leaks.LeakWitness;
import io.harborrobot.operator.ops.OperatorMetrics;
import io.harborrobot.operator.ops.OperatorRuntime;
import io.harborrobot.operator.sandbox.HarborEmulator;
import io.harborrobot.operator.sandbox.InMemoryKubernetes;
import io.harborrobot.operator.sandbox.Sandbox;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * The real operator against the in-memory Kubernetes API and the Harbor emulator over HTTP, with
 * short resync and retry periods. Each test works in a namespace and Harbor project of its own.
 */
public final class OperatorHarness implements AutoCloseable {

  public static final Duration RESYNC = Duration.ofSeconds(2);

  /** How often a credential is checked with a registry login (production: 30 minutes). */
  public static final Duration CREDENTIAL_CHECKS = Duration.ofSeconds(3);

  /** How often a connection is probed (production: 5 minutes). */
  public static final Duration CONNECTION_CHECKS = Duration.ofSeconds(2);

  private static final AtomicInteger COUNTER = new AtomicInteger();
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private final InMemoryKubernetes kubernetes;
  private final HarborEmulator harbor;
  private final HarborClientFactory clients;
  private final TestClock clock = TestClock.running();
  private final PrometheusMeterRegistry meters;
  private Duration resync = RESYNC;
  private Duration credentialChecks = CREDENTIAL_CHECKS;
  private Set<String> namespaces = Set.of();
  private OperatorRuntime operator;

  private OperatorHarness(
      InMemoryKubernetes kubernetes,
      HarborEmulator harbor,
      HarborClientFactory clients,
      PrometheusMeterRegistry meters) {
    this.meters = meters;
    this.kubernetes = kubernetes;
    this.harbor = harbor;
    this.clients = clients;
  }

  /**
   * With the production client, but short backoffs so that tests do not wait for them. The client
   * records its metrics with the operator's, as in production: see {@link #meters()}.
   */
  public static OperatorHarness start() {
    PrometheusMeterRegistry meters = newRegistry();
    return start(
        new OkHttpHarborClientFactory(ClientSettings.defaults().withRetry(FAST_RETRY), meters),
        RESYNC,
        CREDENTIAL_CHECKS,
        Set.of(),
        meters);
  }

  private static PrometheusMeterRegistry newRegistry() {
    return OperatorMetrics.newRegistry();
  }

  /** Four attempts like production, with backoffs of at most half a second. */
  public static final RetryPolicy FAST_RETRY =
      new RetryPolicy(4, Duration.ofMillis(50), 2.0, Duration.ofMillis(500), Duration.ofSeconds(3));

  /**
   * With resyncs and credential checks ten minutes apart, as in production: anything a test sees
   * happen within its timeouts was started by a watch event, so the event wiring is what it tests.
   */
  public static OperatorHarness startEventDriven() {
    return start(
        new OkHttpHarborClientFactory(
            ClientSettings.defaults().withRetry(FAST_RETRY), new SimpleMeterRegistry()),
        Duration.ofMinutes(10),
        Duration.ofMinutes(10));
  }

  /**
   * Watching only {@code namespaces} (as with --namespaces), whose namespaces {@link #newTeam()}
   * then has to create under those names: see {@link #newTeam(String)}.
   */
  public static OperatorHarness startWatching(Set<String> namespaces) {
    OperatorHarness harness =
        start(
            new OkHttpHarborClientFactory(
                ClientSettings.defaults().withRetry(FAST_RETRY), new SimpleMeterRegistry()),
            RESYNC,
            CREDENTIAL_CHECKS,
            namespaces);
    return harness;
  }

  /** With Harbor clients from {@code clients} (e.g. with short timeouts). */
  public static OperatorHarness start(HarborClientFactory clients) {
    return start(clients, RESYNC, CREDENTIAL_CHECKS, Set.of());
  }

  private static OperatorHarness start(
      HarborClientFactory clients, Duration resync, Duration credentialChecks) {
    return start(clients, resync, credentialChecks, Set.of());
  }

  private static OperatorHarness start(
      HarborClientFactory clients,
      Duration resync,
      Duration credentialChecks,
      Set<String> namespaces) {
    return start(clients, resync, credentialChecks, namespaces, newRegistry());
  }

  private static OperatorHarness start(
      HarborClientFactory clients,
      Duration resync,
      Duration credentialChecks,
      Set<String> namespaces,
      PrometheusMeterRegistry meters) {
    InMemoryKubernetes kubernetes = InMemoryKubernetes.start();
    HarborEmulator harbor = HarborEmulator.start();
    harbor.setAdminCredentials(Sandbox.ADMIN_USER, Sandbox.ADMIN_PASSWORD);
    harbor.setLoginLockout(Duration.ZERO);
    OperatorHarness harness = new OperatorHarness(kubernetes, harbor, clients, meters);
    harness.resync = resync;
    harness.credentialChecks = credentialChecks;
    harness.namespaces = namespaces;
    harbor.setClock(harness.clock);
    harness.startOperator();
    return harness;
  }

  /** Starts the operator (again, after {@link #stopOperator}), as after a crash or a restart. */
  public void startOperator() {
    operator =
        OperatorRuntime.start(
            kubernetes.client(), Sandbox.servedBy(harbor, clients), config(), clock, meters);
  }

  private OperatorConfig config() {
    return OperatorConfig.defaults()
        .withResyncPeriod(resync)
        .withRetry(Duration.ofMillis(200), Duration.ofSeconds(2))
        .withCredentialCheckPeriod(credentialChecks)
        .withConnectionCheckPeriod(CONNECTION_CHECKS)
        .withNamespaces(namespaces);
  }

  /**
   * One more operator process against the same API server and Harbor, e.g. a second replica or
   * another shard: its own API client and metrics, the harness's settings changed by {@code
   * adjust}. {@code onFatal} stands for the process exit that production does when the replica
   * loses its Lease.
   */
  public Instance startInstance(UnaryOperator<OperatorConfig> adjust, Runnable onFatal) {
    KubernetesClient own = kubernetes.newClient();
    PrometheusMeterRegistry instanceMeters = newRegistry();
    OperatorRuntime runtime =
        OperatorRuntime.start(
            own,
            Sandbox.servedBy(harbor, clients),
            adjust.apply(config()),
            clock,
            instanceMeters,
            onFatal);
    return new Instance(runtime, own, instanceMeters);
  }

  /** An operator started by {@link #startInstance}. */
  public record Instance(
      OperatorRuntime runtime, KubernetesClient client, PrometheusMeterRegistry meters)
      implements AutoCloseable {

    /** How many reconciles of HarborRobots this instance started. */
    public double robotReconciles() {
      return OperatorHarness.robotReconciles(meters);
    }

    @Override
    public void close() {
      runtime.close();
      client.close();
    }
  }

  /** How many reconciles of HarborRobots the operator whose metrics {@code meters} are started. */
  public static double robotReconciles(io.micrometer.core.instrument.MeterRegistry meters) {
    return meters
        .find("operator.sdk.reconciliations.started")
        .tag("kind", "HarborRobot")
        .counters()
        .stream()
        .mapToDouble(io.micrometer.core.instrument.Counter::count)
        .sum();
  }

  public void stopOperator() {
    operator.close();
  }

  /**
   * Does {@code setUp} while the operator is stopped, as after a crash, and starts it again
   * whatever happens; returns what {@code setUp} returns.
   */
  public <T> T whileStopped(Supplier<T> setUp) {
    stopOperator();
    try {
      return setUp.get();
    } finally {
      startOperator();
    }
  }

  /** {@link #whileStopped(Supplier)} for a set-up that returns nothing. */
  public void whileStopped(Runnable setUp) {
    whileStopped(
        () -> {
          setUp.run();
          return null;
        });
  }

  public KubernetesClient client() {
    return kubernetes.client();
  }

  /** The in-memory API server. */
  public InMemoryKubernetes apiServer() {
    return kubernetes;
  }

  /**
   * The clock of the operator and of the emulator: the system clock until a test moves it ahead, so
   * that expiry and rotation can be reached without waiting.
   */
  public TestClock clock() {
    return clock;
  }

  /** The operator's metrics (and the Harbor client's, for a harness from {@link #start()}). */
  public PrometheusMeterRegistry meters() {
    return meters;
  }

  /** The running operator (after {@link #stopOperator}, the stopped one). */
  public OperatorRuntime runtime() {
    return operator;
  }

  /** The count of counter {@code name} with the given tag, 0 when it was never incremented. */
  public double count(String name, String tag, String value) {
    var counter = meters.find(name).tag(tag, value).counter();
    return counter == null ? 0 : counter.count();
  }

  public HarborEmulator harbor() {
    return harbor;
  }

  /** A fresh namespace with a Harbor project of the same name and a HarborConnection "harbor". */
  public String newTeam() {
    return newTeam(spec -> {});
  }

  /** {@link #newTeam()} under a chosen name (e.g. one the operator watches). */
  public String newTeam(String name) {
    return newTeam(name, spec -> {});
  }

  /** {@link #newTeam()} with the connection's spec adjusted by {@code adjust}. */
  public String newTeam(Consumer<HarborConnectionSpec> adjust) {
    return newTeam("team-" + COUNTER.incrementAndGet(), adjust);
  }

  private String newTeam(String team, Consumer<HarborConnectionSpec> adjust) {
    client()
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(team).endMetadata().build())
        .create();
    harbor.createProject(team);
    client()
        .secrets()
        .inNamespace(team)
        .resource(Sandbox.adminCredentials("harbor-admin"))
        .create();
    HarborConnection harborConnection = new HarborConnection();
    harborConnection.getMetadata().setName("harbor");
    harborConnection.getMetadata().setNamespace(team);
    HarborConnectionSpec spec = new HarborConnectionSpec();
    spec.setUrl("https://harbor.example.com");
    spec.setCredentialsSecretRef(new SecretReference("harbor-admin"));
    adjust.accept(spec);
    harborConnection.setSpec(spec);
    client().resource(harborConnection).create();
    return team;
  }

  /** Where the platform team keeps ClusterHarborConnection credentials in these tests. */
  public static final String OPERATOR_NAMESPACE = "harbor-robot-operator";

  /**
   * A namespace with these labels and a Harbor project of the same name, but no HarborConnection: a
   * tenant of a ClusterHarborConnection.
   */
  public String newTenant(Map<String, String> labels) {
    String team = "tenant-" + COUNTER.incrementAndGet();
    client()
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName(team)
                .withLabels(labels)
                .endMetadata()
                .build())
        .create();
    harbor.createProject(team);
    return team;
  }

  /**
   * A ClusterHarborConnection to the emulator, its admin credentials in {@value
   * #OPERATOR_NAMESPACE}, adjusted by {@code adjust} (e.g. its access rules).
   */
  public ClusterHarborConnection clusterConnection(
      String name, Consumer<ClusterHarborConnection> adjust) {
    if (client().namespaces().withName(OPERATOR_NAMESPACE).get() == null) {
      client()
          .namespaces()
          .resource(
              new NamespaceBuilder()
                  .withNewMetadata()
                  .withName(OPERATOR_NAMESPACE)
                  .endMetadata()
                  .build())
          .create();
    }
    client()
        .secrets()
        .inNamespace(OPERATOR_NAMESPACE)
        .resource(Sandbox.adminCredentials(name + "-admin"))
        .createOr(existing -> existing.update());
    ClusterHarborConnection connection = new ClusterHarborConnection();
    connection.getMetadata().setName(name);
    ClusterHarborConnectionSpec spec = new ClusterHarborConnectionSpec();
    spec.setUrl("https://harbor.example.com");
    SecretReference credentials = new SecretReference(name + "-admin");
    credentials.setNamespace(OPERATOR_NAMESPACE);
    spec.setCredentialsSecretRef(credentials);
    connection.setSpec(spec);
    adjust.accept(connection);
    return client().resource(connection).create();
  }

  /** Waits until ClusterHarborConnection {@code name} has a status that passes {@code check}. */
  public HarborConnectionStatus awaitClusterConnectionStatus(
      String name, Predicate<HarborConnectionStatus> check) {
    return await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                client().resources(ClusterHarborConnection.class).withName(name).get().getStatus(),
            s -> s != null && check.test(s));
  }

  /** An access rule for namespaces by name and projects by pattern. */
  public static AccessRule rule(List<String> namespaces, String... projects) {
    AccessRule rule = new AccessRule();
    rule.setNamespaces(namespaces);
    rule.setProjects(List.of(projects));
    return rule;
  }

  /**
   * Changes a ClusterHarborConnection the way kubectl edit does, again when the connection
   * controller wrote its status in between.
   */
  public ClusterHarborConnection editClusterConnection(
      String name, Consumer<ClusterHarborConnection> change) {
    for (int attempt = 1; ; attempt++) {
      ClusterHarborConnection current =
          client().resources(ClusterHarborConnection.class).withName(name).get();
      change.accept(current);
      try {
        return client().resource(current).update();
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == 10) {
          throw e;
        }
      }
    }
  }

  /** A pull robot in {@code team}'s project; adjust the spec before {@link #create}. */
  public static HarborRobot pullRobot(String team, String name) {
    return TestRobots.pullRobot(team, name);
  }

  /**
   * Creates the resource. When the API server was slow to answer, the client sends the create again
   * and meets its own object; that counts as created.
   */
  public HarborRobot create(HarborRobot robot) {
    try {
      return client().resource(robot).create();
    } catch (KubernetesClientException e) {
      HarborRobot existing =
          e.getCode() == 409
              ? get(robot.getMetadata().getNamespace(), robot.getMetadata().getName())
              : null;
      if (existing == null
          || !Serialization.asJson(existing.getSpec())
              .equals(Serialization.asJson(robot.getSpec()))) {
        throw e;
      }
      return existing;
    }
  }

  /** Changes the resource the way kubectl edit does, again when the operator wrote in between. */
  public HarborRobot edit(String namespace, String name, Consumer<HarborRobot> change) {
    for (int attempt = 1; ; attempt++) {
      HarborRobot current = get(namespace, name);
      change.accept(current);
      try {
        return client().resource(current).update();
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == 10) {
          throw e;
        }
      }
    }
  }

  public HarborRobot get(String namespace, String name) {
    return client().resources(HarborRobot.class).inNamespace(namespace).withName(name).get();
  }

  public Secret secret(String namespace, String name) {
    return client().secrets().inNamespace(namespace).withName(name).get();
  }

  public static Optional<Condition> ready(HarborRobot robot) {
    return robot == null || robot.getStatus() == null
        ? Optional.empty()
        : robot.getStatus().getConditions().stream()
            .filter(c -> "Ready".equals(c.getType()))
            .findFirst();
  }

  /** Waits until Ready has {@code status} and {@code reason} for the current generation. */
  public HarborRobot awaitReady(String namespace, String name, Predicate<Condition> condition) {
    return await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> get(namespace, name),
            r ->
                ready(r)
                    .filter(c -> c.getObservedGeneration() != null)
                    .filter(c -> c.getObservedGeneration().equals(r.getMetadata().getGeneration()))
                    .filter(condition)
                    .isPresent());
  }

  public HarborRobot awaitReady(String namespace, String name) {
    return awaitReady(namespace, name, c -> "True".equals(c.getStatus()));
  }

  public HarborRobot awaitReason(String namespace, String name, String reason) {
    return awaitReady(namespace, name, c -> reason.equals(c.getReason()));
  }

  /**
   * Logs in to the emulator's registry with the Secret's dockerconfigjson, as docker and the
   * kubelet would: GET /v2/ with the {@code auth} entry of the registry host.
   */
  public boolean dockerConfigLogsIn(Secret secret) {
    try {
      String json =
          new String(
              Base64.getDecoder().decode(secret.getData().get(".dockerconfigjson")),
              StandardCharsets.UTF_8);
      var root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
      var entry = root.path("auths").path(harbor.registryHost());
      if (entry.isMissingNode()) {
        return false;
      }
      HttpResponse<Void> response =
          HTTP.send(
              HttpRequest.newBuilder(URI.create("http://" + harbor.registryHost() + "/v2/"))
                  .header("Authorization", "Basic " + entry.path("auth").asText())
                  .GET()
                  .build(),
              HttpResponse.BodyHandlers.discarding());
      return response.statusCode() == 200;
    } catch (Exception e) {
      throw new AssertionError("registry login check failed to run", e);
    }
  }

  /** Waits until {@code name} has an Event with {@code reason}. */
  public void awaitEvent(String namespace, String name, String reason) {
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                org.assertj.core.api.Assertions.assertThat(events(namespace, name))
                    .extracting(Event::getReason)
                    .contains(reason));
  }

  /** The Events recorded about {@code name} in {@code namespace}. */
  public List<Event> events(String namespace, String name) {
    return client().v1().events().inNamespace(namespace).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()))
        .toList();
  }

  /** A key of a Secret's data, decoded. */
  public static String decode(Secret secret, String key) {
    return new String(
        Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    operator.close();
    harbor.close();
    LeakWitness.snapshot(client()); // Events and statuses, checked for secrets
    kubernetes.close();
  }
}
