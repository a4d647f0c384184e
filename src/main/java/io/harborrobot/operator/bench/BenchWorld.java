package io.harborrobot.operator.bench;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.harborrobot.operator.api.v1alpha1.AccessRule;
import io.harborrobot.operator.api.v1alpha1.ClusterHarborConnection;
import io.harborrobot.operator.api.v1alpha1.ClusterHarborConnectionSpec;
import io.harborrobot.operator.api.v1alpha1.Condition;
import io.harborrobot.operator.api.v1alpha1.ConnectionKind;
import io.harborrobot.operator.api.v1alpha1.ConnectionRef;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.HarborRobotSpec;
import io.harborrobot.operator.api.v1alpha1.Preset;
import io.harborrobot.operator.api.v1alpha1.RotationSpec;
import io.harborrobot.operator.api.v1alpha1.SecretReference;
import io.harborrobot.operator.sandbox.HarborEmulator;
import io.harborrobot.operator.sandbox.Sandbox;
import io.harborrobot.operator.secret.CredentialSecrets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * One benchmark set-up: an in-memory API server, a Harbor emulator with a fixed latency, one
 * ClusterHarborConnection to it that every bench namespace may use, and the operator as a process
 * of its own. It applies HarborRobots as GitOps would (many at once) and sees, through informers of
 * its own, when each becomes Ready and when its Secret holds a credential that logs in.
 */
final class BenchWorld implements AutoCloseable {

  static final String OPERATOR_NAMESPACE = "harbor-robot-operator";
  static final String CONNECTION = "bench";
  static final String BENCH_LABEL = "harborrobot.io/bench";
  static final String NAMESPACE_PREFIX = "bench-";

  /** Parallel clients used to apply objects, as a GitOps controller applying a folder would. */
  static final int APPLY_THREADS = 8;

  private static final Preset[] PRESETS = {Preset.Pull, Preset.Push, Preset.CI};

  private final Path dir;
  private final IndexedApiServer api;
  private final HarborEmulator harbor;
  private final Path kubeconfig;
  private final SharedIndexInformer<HarborRobot> robotInformer;
  private final SharedIndexInformer<Secret> secretInformer;
  private final Map<String, Long> readyAt = new ConcurrentHashMap<>();
  private final Map<String, Long> worksAt = new ConcurrentHashMap<>();
  private OperatorProcess operator;
  private int operatorStarts;

  private BenchWorld(Path dir, IndexedApiServer api, HarborEmulator harbor, Path kubeconfig) {
    this.dir = dir;
    this.api = api;
    this.harbor = harbor;
    this.kubeconfig = kubeconfig;
    this.robotInformer =
        api.client()
            .resources(HarborRobot.class)
            .inAnyNamespace()
            .inform(handler(this::robotSeen), 0);
    this.secretInformer =
        api.client()
            .secrets()
            .inAnyNamespace()
            .withLabel(CredentialSecrets.MANAGED_BY_LABEL, CredentialSecrets.MANAGED_BY_VALUE)
            .inform(handler(this::secretSeen), 0);
  }

  /**
   * A world whose Harbor answers every request after {@code latency}, reached through one
   * ClusterHarborConnection limited to {@code maxConcurrent} requests in flight and {@code
   * requestsPerSecond}.
   */
  static BenchWorld start(Path dir, Duration latency, int maxConcurrent, int requestsPerSecond) {
    IndexedApiServer api = IndexedApiServer.start();
    HarborEmulator harbor = HarborEmulator.start();
    try {
      harbor.setAdminCredentials(Sandbox.ADMIN_USER, Sandbox.ADMIN_PASSWORD);
      harbor.setLatency(latency);
      Path kubeconfig = api.writeKubeconfig(dir);
      BenchWorld world = new BenchWorld(dir, api, harbor, kubeconfig);
      world.createConnection(maxConcurrent, requestsPerSecond);
      return world;
    } catch (IOException e) {
      harbor.close();
      api.close();
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      harbor.close();
      api.close();
      throw e;
    }
  }

  IndexedApiServer api() {
    return api;
  }

  HarborEmulator harbor() {
    return harbor;
  }

  OperatorProcess operator() {
    return operator;
  }

  private void createConnection(int maxConcurrent, int requestsPerSecond) {
    createNamespace(OPERATOR_NAMESPACE, Map.of());
    api.client()
        .secrets()
        .inNamespace(OPERATOR_NAMESPACE)
        .resource(Sandbox.adminCredentials(CONNECTION + "-harbor-admin"))
        .create();
    ClusterHarborConnection connection = new ClusterHarborConnection();
    connection.getMetadata().setName(CONNECTION);
    ClusterHarborConnectionSpec spec = new ClusterHarborConnectionSpec();
    spec.setUrl(harbor.baseUrl());
    SecretReference credentials = new SecretReference(CONNECTION + "-harbor-admin");
    credentials.setNamespace(OPERATOR_NAMESPACE);
    spec.setCredentialsSecretRef(credentials);
    spec.setMaxConcurrentRequests(maxConcurrent);
    spec.setRequestsPerSecond(requestsPerSecond);
    AccessRule rule = new AccessRule();
    rule.setNamespaceSelector(
        new LabelSelectorBuilder().addToMatchLabels(BENCH_LABEL, "true").build());
    rule.setProjects(List.of(NAMESPACE_PREFIX + "*"));
    spec.setAccess(List.of(rule));
    connection.setSpec(spec);
    api.client().resource(connection).create();
  }

  /**
   * Namespaces {@code bench-<from>} .. {@code bench-<from+count-1>}, each with a Harbor project of
   * the same name; returns their names.
   */
  List<String> createTeams(int from, int count) {
    List<String> names = new ArrayList<>();
    for (int i = from; i < from + count; i++) {
      names.add(String.format("%s%04d", NAMESPACE_PREFIX, i));
    }
    parallel(
        names,
        name -> {
          createNamespace(name, Map.of(BENCH_LABEL, "true"));
          harbor.createProject(name);
        });
    return names;
  }

  private void createNamespace(String name, Map<String, String> labels) {
    try {
      api.client()
          .namespaces()
          .resource(
              new NamespaceBuilder()
                  .withNewMetadata()
                  .withName(name)
                  .withLabels(labels)
                  .endMetadata()
                  .build())
          .create();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
    }
  }

  /**
   * A HarborRobot as a team would write it: one of the three presets in turn, a description, and
   * for every other robot a lifetime of a year renewed 30 days before it ends.
   */
  static HarborRobot robot(String namespace, String name, int index) {
    HarborRobot robot = new HarborRobot();
    robot.getMetadata().setName(name);
    robot.getMetadata().setNamespace(namespace);
    HarborRobotSpec spec = new HarborRobotSpec();
    spec.setConnectionRef(new ConnectionRef(ConnectionKind.ClusterHarborConnection, CONNECTION));
    spec.setProject(namespace);
    spec.setPreset(PRESETS[index % PRESETS.length]);
    spec.setDescription("bench robot " + index);
    if (index % 2 == 1) {
      spec.setDurationDays(365);
      RotationSpec rotation = new RotationSpec();
      rotation.setRenewBeforeDays(30);
      spec.setRotation(rotation);
    }
    robot.setSpec(spec);
    return robot;
  }

  /**
   * HarborRobots {@code first} .. {@code first+count-1}, {@code perProject} to a namespace of
   * {@code teams}; returns their keys ({@code namespace/name}) in the order they are applied.
   */
  static List<HarborRobot> robots(List<String> teams, int first, int count, int perProject) {
    List<HarborRobot> robots = new ArrayList<>();
    for (int i = first; i < first + count; i++) {
      String team = teams.get((i / perProject) % teams.size());
      robots.add(robot(team, String.format("robot-%05d", i), i));
    }
    return robots;
  }

  static String key(HarborRobot robot) {
    return robot.getMetadata().getNamespace() + "/" + robot.getMetadata().getName();
  }

  /** Applies the robots with {@value #APPLY_THREADS} clients at once. */
  void apply(List<HarborRobot> robots) {
    parallel(robots, this::create);
  }

  void create(HarborRobot robot) {
    try {
      api.client().resource(robot).create();
    } catch (KubernetesClientException e) {
      // a create the client sent again after a slow answer meets its own object
      if (e.getCode() != 409) {
        throw e;
      }
    }
  }

  /**
   * {@code count} Secrets the operator has nothing to do with, spread over {@code namespaces}: 1 to
   * 3 KiB each, with labels of their own, as applications, Helm releases and TLS keep them.
   */
  void createUnrelatedSecrets(List<String> namespaces, int count) {
    Random random = new Random(42);
    List<Secret> secrets = new ArrayList<>();
    String[] apps = {"web", "api", "worker", "db", "cache"};
    for (int i = 0; i < count; i++) {
      byte[] data = new byte[1024 + random.nextInt(2048)];
      random.nextBytes(data);
      String app = apps[i % apps.length];
      secrets.add(
          new SecretBuilder()
              .withNewMetadata()
              .withName(String.format("%s-config-%05d", app, i))
              .withNamespace(namespaces.get(i % namespaces.size()))
              .withLabels(
                  Map.of("app.kubernetes.io/name", app, "app.kubernetes.io/part-of", "shop"))
              .endMetadata()
              .withType("Opaque")
              .withData(Map.of("config", Base64.getEncoder().encodeToString(data)))
              .build());
    }
    parallel(
        secrets,
        s -> {
          try {
            api.client().resource(s).create();
          } catch (KubernetesClientException e) {
            if (e.getCode() != 409) {
              throw e;
            }
          }
        });
  }

  /** Starts the operator (stopping a running one first); its log goes to the work folder. */
  OperatorProcess startOperator(OperatorProcess.Settings settings) {
    stopOperator();
    operatorStarts++;
    operator =
        OperatorProcess.start(
            kubeconfig, dir.resolve("operator-" + operatorStarts + ".log"), settings);
    return operator;
  }

  void stopOperator() {
    if (operator != null) {
      operator.close();
      operator = null;
    }
  }

  /** Waits until the ClusterHarborConnection reports Ready=True; false after {@code timeout}. */
  boolean awaitConnectionReady(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      ClusterHarborConnection connection =
          api.client().resources(ClusterHarborConnection.class).withName(CONNECTION).get();
      if (connection != null
          && connection.getStatus() != null
          && connection.getStatus().getConditions() != null
          && connection.getStatus().getConditions().stream()
              .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()))) {
        return true;
      }
      requireOperatorAlive();
      Thread.sleep(100);
    }
    return false;
  }

  /** When each robot was first seen Ready (System.nanoTime), by key. */
  Map<String, Long> readyAt() {
    return readyAt;
  }

  /** When each robot's Secret was first seen holding a credential that logs in, by key. */
  Map<String, Long> worksAt() {
    return worksAt;
  }

  /**
   * Waits until every key is in {@code seen} (one of {@link #readyAt()}, {@link #worksAt()}) or
   * {@code timeout} passed; returns how many are.
   */
  int awaitAll(Collection<String> keys, Map<String, Long> seen, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long nextRecheck = System.nanoTime();
    while (true) {
      int done = 0;
      for (String key : keys) {
        if (seen.containsKey(key)) {
          done++;
        }
      }
      if (done == keys.size() || System.nanoTime() >= deadline) {
        return done;
      }
      if (seen == worksAt && System.nanoTime() >= nextRecheck) {
        // an event may have been checked a moment before Harbor took the credential
        for (String key : keys) {
          if (!worksAt.containsKey(key)) {
            Secret secret = secretInformer.getStore().getByKey(key);
            if (secret != null) {
              secretSeen(secret);
            }
          }
        }
        nextRecheck = System.nanoTime() + Duration.ofMillis(250).toNanos();
      }
      requireOperatorAlive();
      Thread.sleep(keys.size() > 1000 ? 100 : 5);
    }
  }

  /** The latest time in {@code seen} among {@code keys} (System.nanoTime), or -1 if none. */
  static long latest(Collection<String> keys, Map<String, Long> seen) {
    long latest = -1;
    for (String key : keys) {
      Long at = seen.get(key);
      if (at != null && at > latest) {
        latest = at;
      }
    }
    return latest;
  }

  /** How many of the robots' Secrets hold a credential the registry accepts right now. */
  int workingSecrets(Collection<String> keys) {
    int working = 0;
    for (String key : keys) {
      Secret secret = secretInformer.getStore().getByKey(key);
      if (secret != null && works(secret)) {
        working++;
      }
    }
    return working;
  }

  private void requireOperatorAlive() {
    if (operator != null && !operator.alive()) {
      throw new IllegalStateException(
          "the operator process ended; its log is " + operator.log().toAbsolutePath());
    }
  }

  private void robotSeen(HarborRobot robot) {
    if (ready(robot)) {
      readyAt.putIfAbsent(key(robot), System.nanoTime());
    }
  }

  private void secretSeen(Secret secret) {
    String robot =
        secret.getMetadata().getLabels() == null
            ? null
            : secret.getMetadata().getLabels().get(CredentialSecrets.ROBOT_LABEL);
    if (robot == null) {
      return;
    }
    String key = secret.getMetadata().getNamespace() + "/" + robot;
    if (!worksAt.containsKey(key) && works(secret)) {
      worksAt.putIfAbsent(key, System.nanoTime());
    }
  }

  /** Whether the Secret's credential logs in to the registry (no request: not counted). */
  private boolean works(Secret secret) {
    return CredentialSecrets.credential(secret)
        .map(c -> harbor.credentialsWork(c.username(), c.password()))
        .orElse(false);
  }

  /** Ready=True for the robot's current generation. */
  static boolean ready(HarborRobot robot) {
    if (robot.getStatus() == null || robot.getStatus().getConditions() == null) {
      return false;
    }
    for (Condition c : robot.getStatus().getConditions()) {
      if ("Ready".equals(c.getType())) {
        return "True".equals(c.getStatus())
            && Objects.equals(c.getObservedGeneration(), robot.getMetadata().getGeneration());
      }
    }
    return false;
  }

  private static <T> ResourceEventHandler<T> handler(Consumer<T> seen) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        seen.accept(obj);
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        seen.accept(newObj);
      }

      @Override
      public void onDelete(T obj, boolean deletedFinalStateUnknown) {}
    };
  }

  /** Runs {@code action} on every item with {@value #APPLY_THREADS} threads; rethrows a failure. */
  static <T> void parallel(List<T> items, Consumer<T> action) {
    ExecutorService pool = Executors.newFixedThreadPool(APPLY_THREADS);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (T item : items) {
        futures.add(pool.submit(() -> action.accept(item)));
      }
      for (Future<?> f : futures) {
        f.get();
      }
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r
          ? r
          : new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } finally {
      pool.shutdownNow();
    }
  }

  @Override
  public void close() {
    stopOperator();
    robotInformer.close();
    secretInformer.close();
    harbor.close();
    api.close();
  }
}
