package io.harborrobot.operator.reliability;

import static io.harborrobot.operator.OperatorHarness.rule;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Secret;
import io.harborrobot.operator.OperatorHarness;
import io.harborrobot.operator.api.v1alpha1.ConnectionKind;
import io.harborrobot.operator.api.v1alpha1.ConnectionRef;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.Permission;
import io.harborrobot.operator.api.v1alpha1.Preset;
import io.harborrobot.operator.harbor.ClientSettings;
import io.harborrobot.operator.harbor.OkHttpHarborClientFactory;
import io.harborrobot.operator.reconciler.DesiredRobot;
import io.harborrobot.operator.reconciler.RotationPlan;
import io.harborrobot.operator.sandbox.EmulatedRobot;
import io.harborrobot.operator.sandbox.ExchangeObserver;
import io.harborrobot.operator.sandbox.HarborEmulator;
import io.harborrobot.operator.secret.CredentialSecrets;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Chaos: a couple of hundred HarborRobots in four namespaces over three connections (two
 * HarborConnections and a ClusterHarborConnection shared by two tenants) are created, updated,
 * rotated and deleted while Harbor answers with 5xx and 429 (with Retry-After), loses responses
 * after applying the change and has latency spikes beyond the client's read timeout, and while the
 * operator is stopped and started again four times, each time with work in flight. The points of
 * the restarts are drawn from a seeded {@link Random} and reached by waiting on conditions (robots
 * Ready, Harbor requests served), never by sleeping.
 *
 * <p>Then the faults go and the end state must be exact: every remaining HarborRobot Ready for its
 * generation, exactly one Harbor robot per HarborRobot and none that no HarborRobot owns (the
 * deleted ones leave nothing behind, in Harbor or in the cluster), Harbor's copy as the spec says,
 * every Secret's docker config logging in to the registry with the password Harbor holds, every
 * requested rotation done (the old credential refused), nothing half done in the Secrets'
 * bookkeeping, the number of Harbor requests within the bound derived at {@link #requestBound}, and
 * the steady state that follows within {@link #steadyBound}.
 *
 * <p>The seed fixes the test's choices and the emulator's dice; requests that run concurrently draw
 * in arrival order, so the exact figures differ from run to run. They go to stdout (the failsafe
 * report's {@code -output.txt}) as lines starting with {@code ChaosIT}.
 */
class ChaosIT {

  static final long SEED = 20261203L;

  /** Robots created at first; more are created during the deletions. */
  static final int ROBOTS = 200;

  static final int LATE_ROBOTS = 20;

  /** Robots created while the operator is down at the first restart. */
  static final int BACKLOG = 30;

  static final int DESCRIPTION_UPDATES = 30;
  static final int PRESET_UPDATES = 30;
  static final int ROTATIONS = 20;
  static final int DELETIONS = 50;

  /** The client's read timeout; latency spikes are longer, so they end as timeouts. */
  static final Duration READ_TIMEOUT = Duration.ofSeconds(1);

  static final Duration SPIKE = Duration.ofSeconds(2);

  /**
   * Per connection: high enough that the client's rate limiter never decides the request count (a
   * reconcile loop must show up in the count, not hide behind the limiter).
   */
  static final int REQUESTS_PER_SECOND = 500;

  static final int MAX_CONCURRENT_REQUESTS = 8;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SimpleMeterRegistry CLIENT_METRICS = new SimpleMeterRegistry();
  private static final String SHARED = "chaos-shared";

  private static OperatorHarness harness;
  private static HarborEmulator harbor;

  private final Random dice = new Random(SEED);
  private final List<String> namespaces = new ArrayList<>();
  private final Map<String, Tracked> robots = new LinkedHashMap<>();
  private final List<String> restarts = new ArrayList<>();
  private final Map<String, AtomicInteger> faults = new ConcurrentHashMap<>();

  /** Injected error answers (request not applied) by method. */
  private final Map<String, AtomicInteger> refusedByMethod = new ConcurrentHashMap<>();

  private int nextName;

  /** Live HarborRobots times seconds of operator uptime, integrated at every change. */
  private double robotSeconds;

  private double uptimeSeconds;
  private long lastMark = System.nanoTime();
  private boolean running = true;
  private int updates;
  private int liveAtRestarts;
  private String boundParts;
  private final long testStart = System.nanoTime();
  private final List<String> timeline = new ArrayList<>();

  /** What the test did to one HarborRobot, and what it expects of it. */
  private static final class Tracked {
    final String namespace;
    final String name;
    boolean deleted;
    String rotateValue;
    String passwordBeforeRotation;
    String usernameBeforeRotation;

    Tracked(String namespace, String name) {
      this.namespace = namespace;
      this.name = name;
    }

    String key() {
      return namespace + "/" + name;
    }

    /** Harbor's stored name: every robot is a project robot of its namespace's project. */
    String storedName() {
      return namespace + "+" + name;
    }
  }

  @BeforeAll
  static void start() {
    ClientSettings settings =
        ClientSettings.defaults()
            .withTimeouts(Duration.ofSeconds(1), READ_TIMEOUT, Duration.ofSeconds(5))
            .withRetry(OperatorHarness.FAST_RETRY);
    harness = OperatorHarness.start(new OkHttpHarborClientFactory(settings, CLIENT_METRICS));
    harbor = harness.harbor();
  }

  @AfterAll
  static void stop() {
    if (harness != null) {
      harness.close();
    }
  }

  @Test
  void robotsConvergeExactlyThroughHarborFaultsAndOperatorRestarts() {
    setUpTenants();
    countFaults();
    harbor.setSeed(SEED);
    int requestsBefore = harbor.requestCount();

    // 1. Creates under 503s, lost responses, latency spikes and 429s on project reads. Once
    //    Harbor has served a drawn number of requests, the operator stops in the middle of the
    //    creates, and the next robots are created while it is down. It stops again, and starts at
    //    once, when a drawn number of robots are Ready while the creates go on.
    faults(503, null);
    harbor.failNext("GET", "/api/v2.0/projects/.*", 429, 3, Duration.ofSeconds(1));
    int requestsForRestart1 = 150 + dice.nextInt(250);
    int readyForRestart2 = ROBOTS / 3 + dice.nextInt(ROBOTS / 3);
    while (nextName < ROBOTS) {
      create();
      if (restarts.isEmpty() && harbor.requestCount() - requestsBefore >= requestsForRestart1) {
        restart("1 (creating)", () -> createMore(Math.min(BACKLOG, ROBOTS - nextName)));
      } else if (restarts.size() == 1
          && nextName % 10 == 0
          && snapshot().ready() >= readyForRestart2) {
        restart("2 (creating)", () -> {});
      }
    }
    if (restarts.isEmpty()) {
      awaitThat("restart 1", () -> harbor.requestCount() - requestsBefore >= requestsForRestart1);
      restart("1 (creating)", () -> {});
    }
    if (restarts.size() == 1) {
      restart("2 (creating)", () -> {}); // the last creates are in flight
    }
    phaseDone("creates");

    // 3. Rotations, then updates (description, permissions) under 429 with Retry-After, while
    //    the last creates finish; stopped once Harbor has seen a drawn number of PUTs, and the
    //    remaining updates are made while the operator is down.
    faults(429, Duration.ofSeconds(1));
    List<Tracked> rotated = requestRotations(ROTATIONS);
    phaseDone("rotations requested");
    List<Tracked> toUpdate = pick(liveRobots(), DESCRIPTION_UPDATES + PRESET_UPDATES);
    int putsBefore = routeCount("PUT /api/v2.0/robots/{id}");
    int putsForRestart3 = 5 + dice.nextInt(20);
    boolean restarted = false;
    for (int i = 0; i < toUpdate.size(); i++) {
      update(toUpdate.get(i), i < DESCRIPTION_UPDATES);
      if (!restarted && routeCount("PUT /api/v2.0/robots/{id}") - putsBefore >= putsForRestart3) {
        restarted = true;
        List<Tracked> rest = toUpdate.subList(i + 1, toUpdate.size());
        int offset = i + 1;
        restart(
            "3 (updating)",
            () -> {
              for (int k = 0; k < rest.size(); k++) {
                update(rest.get(k), offset + k < DESCRIPTION_UPDATES);
              }
            });
        break;
      }
    }
    if (!restarted) {
      awaitThat(
          "restart 3",
          () -> routeCount("PUT /api/v2.0/robots/{id}") - putsBefore >= putsForRestart3);
      restart("3 (updating)", () -> {});
    }

    phaseDone("updates");

    // 4. Deletions (and a few new robots) under 500s and 502s; stopped once Harbor has seen a
    //    drawn number of DELETEs, the remaining deletions and the new robots made while it is
    //    down.
    faults(500, null);
    harbor.failNext("DELETE", "/api/v2.0/robots/.*", 502, 5);
    List<Tracked> doomed = pick(liveRobots(), DELETIONS);
    int deletesBefore = routeCount("DELETE /api/v2.0/robots/{id}");
    int deletesForRestart4 = 2 + dice.nextInt(10);
    restarted = false;
    for (int i = 0; i < doomed.size(); i++) {
      delete(doomed.get(i));
      if (!restarted
          && routeCount("DELETE /api/v2.0/robots/{id}") - deletesBefore >= deletesForRestart4) {
        restarted = true;
        List<Tracked> rest = doomed.subList(i + 1, doomed.size());
        restart(
            "4 (deleting)",
            () -> {
              rest.forEach(this::delete);
              createMore(LATE_ROBOTS);
            });
        break;
      }
    }
    if (!restarted) {
      awaitThat(
          "restart 4",
          () -> routeCount("DELETE /api/v2.0/robots/{id}") - deletesBefore >= deletesForRestart4);
      restart("4 (deleting)", () -> createMore(LATE_ROBOTS));
    }

    phaseDone("deletions");

    // 5. Faults off: everything must converge, exactly.
    harbor.clearFaults();
    long faultsOff = System.nanoTime();
    try {
      await("convergence")
          .atMost(Duration.ofMinutes(4))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> divergence().isEmpty());
    } catch (ConditionTimeoutException e) {
      List<String> left = divergence();
      throw new AssertionError(
          "not converged 4 minutes after the faults were turned off; "
              + left.size()
              + " differences, e.g.:\n  "
              + left.stream().limit(30).collect(Collectors.joining("\n  ")),
          e);
    }
    long converged = System.nanoTime();
    mark();
    phaseDone("converged");
    long requests = harbor.requestCount() - requestsBefore;
    Map<String, Integer> byRoute = harbor.requestCountsByRoute();

    // 6. The steady state that follows: nothing to do, so each robot costs what its schedule of
    //    resyncs and credential checks costs, and no more (see steadyBound).
    int live = liveRobots().size();
    int steadyBefore = harbor.requestCount();
    Map<String, Integer> routesBefore = harbor.requestCountsByRoute();
    long steadyStart = System.nanoTime();
    await("a steady window")
        .pollDelay(STEADY_WINDOW)
        .atMost(STEADY_WINDOW.plusSeconds(5))
        .until(() -> true);
    double steadySeconds = (System.nanoTime() - steadyStart) / 1e9;
    long steadyRequests = harbor.requestCount() - steadyBefore;
    long steadyBound = steadyBound(live, namespaces.size(), steadySeconds);
    Map<String, Integer> steadyRoutes = new TreeMap<>();
    harbor
        .requestCountsByRoute()
        .forEach((route, n) -> steadyRoutes.put(route, n - routesBefore.getOrDefault(route, 0)));
    steadyRoutes.values().removeIf(n -> n == 0);

    long checking = System.nanoTime();
    List<String> problems = endStateProblems(rotated);
    String checked =
        String.format(
            "ChaosIT end-state checks: %d problems, %.1f s",
            problems.size(), (System.nanoTime() - checking) / 1e9);
    long bound = requestBound();
    String summary =
        String.format(
            "ChaosIT summary: seed %d; robots %d created, %d deleted, %d live in %d namespaces over"
                + " 3 connections; %d updated, %d rotations; restarts %d %s; faults served %s,"
                + " %d client timeouts; Harbor requests %d (bound %d, %.1f per robot"
                + " created); converged %.1f s after the faults were turned off; %.1f s in all",
            SEED,
            robots.size(),
            doomed.size(),
            liveRobots().size(),
            namespaces.size(),
            toUpdate.size(),
            rotated.size(),
            restarts.size(),
            restarts,
            new TreeMap<>(
                faults.entrySet().stream()
                    .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().get()))),
            clientIoErrors(null) - faults.getOrDefault("lost", new AtomicInteger()).get(),
            requests,
            bound,
            requests / (double) robots.size(),
            (converged - faultsOff) / 1e9,
            (converged - testStart) / 1e9);
    System.out.println(summary);
    System.out.println(checked);
    System.out.println("ChaosIT request bound: " + boundParts);
    System.out.println("ChaosIT timeline: " + timeline);
    System.out.println("ChaosIT Harbor requests by route: " + byRoute);
    String steady =
        String.format(
            "ChaosIT steady state: %d requests in %.1f s for %d robots (%.2f per robot-second;"
                + " bound %d) %s",
            steadyRequests,
            steadySeconds,
            live,
            steadyRequests / (live * steadySeconds),
            steadyBound,
            steadyRoutes);
    System.out.println(steady);
    System.out.println("ChaosIT Warning Events by reason: " + warningsByReason());

    assertThat(problems).as("end state").isEmpty();
    assertThat(requests).as("Harbor requests (%s)", summary).isLessThanOrEqualTo(bound);
    assertThat(steadyRequests).as(steady).isLessThanOrEqualTo(steadyBound);
  }

  // -------------------------------------------------------------------------------------------
  // set-up

  /**
   * Two teams with a HarborConnection each, and two tenants of one ClusterHarborConnection: four
   * namespaces (each with its Harbor project) over three connections.
   */
  private void setUpTenants() {
    for (int i = 0; i < 2; i++) {
      namespaces.add(
          harness.newTeam(
              spec -> {
                spec.setRequestsPerSecond(REQUESTS_PER_SECOND);
                spec.setMaxConcurrentRequests(MAX_CONCURRENT_REQUESTS);
              }));
    }
    String tenantA = harness.newTenant(Map.of());
    String tenantB = harness.newTenant(Map.of());
    harness.clusterConnection(
        SHARED,
        c -> {
          c.getSpec().setAccess(List.of(rule(List.of(tenantA, tenantB), tenantA, tenantB)));
          c.getSpec().setRequestsPerSecond(REQUESTS_PER_SECOND);
          c.getSpec().setMaxConcurrentRequests(MAX_CONCURRENT_REQUESTS);
        });
    namespaces.add(tenantA);
    namespaces.add(tenantB);
  }

  /** Counts the faults the emulator serves, keeping the contract check that observes it. */
  private void countFaults() {
    ExchangeObserver contract = harbor.exchangeObserver();
    harbor.setExchangeObserver(
        exchange -> {
          if (contract != null) {
            contract.observe(exchange);
          }
          if (exchange.injected()) {
            String kind = exchange.responded() ? Integer.toString(exchange.status()) : "lost";
            faults.computeIfAbsent(kind, k -> new AtomicInteger()).incrementAndGet();
            if (exchange.responded()) {
              refusedByMethod
                  .computeIfAbsent(exchange.method(), k -> new AtomicInteger())
                  .incrementAndGet();
            }
          }
        });
  }

  /**
   * A phase's faults: 15 % of requests answered {@code status} (not applied), 10 % of writes
   * applied and their response lost, 2 % delayed beyond the read timeout.
   */
  private static void faults(int status, Duration retryAfter) {
    harbor.setErrorRate(0.15, status, retryAfter);
    harbor.setLostResponseRate(0.1);
    harbor.setLatencySpikes(0.02, SPIKE);
  }

  // -------------------------------------------------------------------------------------------
  // what the test does to the robots

  /** Adds the time since the last change to the uptime integrals; call before every change. */
  private void mark() {
    long now = System.nanoTime();
    if (running) {
      double seconds = (now - lastMark) / 1e9;
      uptimeSeconds += seconds;
      robotSeconds += seconds * liveRobots().size();
    }
    lastMark = now;
  }

  private void create() {
    mark();
    String namespace = namespaces.get(nextName % namespaces.size());
    String name = String.format("chaos-%03d", nextName++);
    HarborRobot robot = OperatorHarness.pullRobot(namespace, name);
    if (namespaces.indexOf(namespace) >= 2) {
      robot
          .getSpec()
          .setConnectionRef(new ConnectionRef(ConnectionKind.ClusterHarborConnection, SHARED));
    }
    robot.getSpec().setPreset(Preset.values()[dice.nextInt(Preset.values().length)]);
    robot.getSpec().setDescription("chaos robot " + name);
    harness.create(robot);
    Tracked t = new Tracked(namespace, name);
    robots.put(t.key(), t);
  }

  private void phaseDone(String phase) {
    timeline.add(String.format("%s %.1f s", phase, (System.nanoTime() - testStart) / 1e9));
  }

  private void createMore(int count) {
    for (int i = 0; i < count; i++) {
      create();
    }
  }

  private void update(Tracked t, boolean description) {
    updates++;
    Preset preset = Preset.values()[dice.nextInt(Preset.values().length)];
    harness.edit(
        t.namespace,
        t.name,
        r -> {
          if (description) {
            r.getSpec().setDescription("updated " + r.getMetadata().getGeneration());
          } else {
            r.getSpec()
                .setPreset(
                    r.getSpec().getPreset() == preset
                        ? Preset.values()[(preset.ordinal() + 1) % Preset.values().length]
                        : preset);
          }
        });
  }

  /**
   * Asks for a rotation of robots that are Ready with a credential Harbor holds, remembering that
   * credential: it must stop working. Waits until half the robots are Ready, to choose from.
   */
  private List<Tracked> requestRotations(int count) {
    awaitThat("robots to rotate", () -> snapshot().ready() >= liveRobots().size() / 2);
    Map<String, HarborRobot> present = robotsByKey();
    Map<String, Secret> secrets = secretsByKey();
    List<Tracked> chosen = new ArrayList<>();
    for (Tracked t : pick(liveRobots(), liveRobots().size())) {
      if (chosen.size() == count) {
        break;
      }
      Secret secret = secrets.get(t.key());
      String[] credential = secret == null ? null : credential(secret);
      if (!readyNow(present.get(t.key()))
          || credential == null
          || !harbor.credentialsWork(credential[0], credential[1])) {
        continue;
      }
      t.usernameBeforeRotation = credential[0];
      t.passwordBeforeRotation = credential[1];
      t.rotateValue = "chaos-" + chosen.size();
      harness.edit(
          t.namespace,
          t.name,
          robot -> {
            Map<String, String> annotations =
                robot.getMetadata().getAnnotations() == null
                    ? new HashMap<>()
                    : new HashMap<>(robot.getMetadata().getAnnotations());
            annotations.put(RotationPlan.ROTATE_ANNOTATION, t.rotateValue);
            robot.getMetadata().setAnnotations(annotations);
          });
      chosen.add(t);
    }
    assertThat(chosen).as("robots Ready to rotate").hasSize(count);
    return chosen;
  }

  private void delete(Tracked t) {
    mark();
    harness
        .client()
        .resources(HarborRobot.class)
        .inNamespace(t.namespace)
        .withName(t.name)
        .delete();
    t.deleted = true;
  }

  private List<Tracked> liveRobots() {
    return robots.values().stream().filter(t -> !t.deleted).toList();
  }

  private List<Tracked> pick(List<Tracked> from, int count) {
    List<Tracked> pool = new ArrayList<>(from);
    List<Tracked> chosen = new ArrayList<>();
    while (chosen.size() < count && !pool.isEmpty()) {
      chosen.add(pool.remove(dice.nextInt(pool.size())));
    }
    return chosen;
  }

  /**
   * Stops the operator (the stop lets reconciles in flight finish, up to a bound, as at a pod's
   * termination), does {@code whileStopped}, and starts it again. Asserts that there was work in
   * flight when it stopped.
   */
  private void restart(String label, Runnable whileStopped) {
    Snapshot before = snapshot();
    long deletionsInHarbor =
        robots.values().stream()
            .filter(t -> t.deleted && harbor.findRobot(t.namespace, t.name).isPresent())
            .count();
    int requests = harbor.requestCount();
    long stopping = System.nanoTime();
    mark();
    running = false;
    liveAtRestarts += liveRobots().size();
    harness.stopOperator();
    long stopped = System.nanoTime();
    whileStopped.run();
    harness.startOperator();
    long started = System.nanoTime();
    mark();
    running = true;
    restarts.add(
        String.format(
            "%s at %.1f s: %d/%d Ready, %d being deleted (%d robots still in Harbor), %d requests"
                + " served; stop %.1f s, start %.1f s",
            label,
            (stopping - testStart) / 1e9,
            before.ready(),
            before.total(),
            before.deleting(),
            deletionsInHarbor,
            requests,
            (stopped - stopping) / 1e9,
            (started - stopped) / 1e9));
    assertThat(before.total() - before.ready() + deletionsInHarbor)
        .as("work in flight at restart %s", label)
        .isPositive();
  }

  // -------------------------------------------------------------------------------------------
  // observing

  /**
   * The HarborRobots of the test: how many, how many Ready for their generation, how many going.
   */
  private record Snapshot(int total, int ready, int deleting) {}

  private Snapshot snapshot() {
    List<HarborRobot> all = allRobots();
    int ready = 0;
    int deleting = 0;
    for (HarborRobot r : all) {
      if (r.getMetadata().getDeletionTimestamp() != null) {
        deleting++;
      } else if (readyNow(r)) {
        ready++;
      }
    }
    return new Snapshot(all.size(), ready, deleting);
  }

  private List<HarborRobot> allRobots() {
    List<HarborRobot> all = new ArrayList<>();
    for (String namespace : namespaces) {
      all.addAll(
          harness.client().resources(HarborRobot.class).inNamespace(namespace).list().getItems());
    }
    return all;
  }

  private static boolean readyNow(HarborRobot r) {
    return r != null
        && r.getMetadata().getDeletionTimestamp() == null
        && OperatorHarness.ready(r)
            .filter(c -> "True".equals(c.getStatus()))
            .filter(c -> r.getMetadata().getGeneration().equals(c.getObservedGeneration()))
            .isPresent();
  }

  private static void awaitThat(String what, BooleanSupplier condition) {
    await(what)
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(200))
        .until(condition::getAsBoolean);
  }

  /** The Warning Events about HarborRobots in the test's namespaces, counted by reason. */
  private Map<String, Integer> warningsByReason() {
    Map<String, Integer> byReason = new TreeMap<>();
    for (String namespace : namespaces) {
      for (Event e : harness.client().v1().events().inNamespace(namespace).list().getItems()) {
        if ("Warning".equals(e.getType())
            && "HarborRobot".equals(e.getInvolvedObject().getKind())) {
          byReason.merge(e.getReason(), e.getCount() == null ? 1 : e.getCount(), Integer::sum);
        }
      }
    }
    return byReason;
  }

  private static int routeCount(String route) {
    return harbor.requestCountsByRoute().getOrDefault(route, 0);
  }

  /**
   * Exchanges the client sent that got no response (lost responses and read timeouts), of {@code
   * method} or ({@code null}) all.
   */
  private static long clientIoErrors(String method) {
    return CLIENT_METRICS.find("harbor.client.requests").tag("status", "io_error").timers().stream()
        .filter(t -> method == null || method.equals(t.getId().getTag("method")))
        .mapToLong(Timer::count)
        .sum();
  }

  /** Harbor robots of the test's projects, by stored name ({@code project+name}). */
  private Map<String, List<EmulatedRobot>> harborRobots() {
    return harbor.robots().stream()
        .filter(r -> r.project() == null || namespaces.contains(r.project()))
        .collect(Collectors.groupingBy(EmulatedRobot::storedName));
  }

  /**
   * What still differs from the end state the test waits for (empty when converged): robots not
   * Ready, deletions not done, Harbor robots missing, doubled or unowned, rotations not done.
   */
  private List<String> divergence() {
    List<String> out = new ArrayList<>();
    Map<String, HarborRobot> present = robotsByKey();
    Map<String, Secret> secrets =
        robots.values().stream().anyMatch(t -> t.rotateValue != null) ? secretsByKey() : Map.of();
    Map<String, List<EmulatedRobot>> inHarbor = harborRobots();
    Set<String> expected = new TreeSet<>();
    for (Tracked t : robots.values()) {
      HarborRobot r = present.get(t.key());
      if (t.deleted) {
        if (r != null) {
          out.add(t.key() + ": still present (deletion not finished)");
        }
        continue;
      }
      expected.add(t.storedName());
      if (!readyNow(r)) {
        out.add(t.key() + ": not Ready for its generation: " + readyText(r));
      }
      List<EmulatedRobot> found = inHarbor.getOrDefault(t.storedName(), List.of());
      if (found.size() != 1) {
        out.add(t.key() + ": " + found.size() + " robots in Harbor");
      }
      if (t.rotateValue != null) {
        Secret secret = secrets.get(t.key());
        String handled =
            secret == null
                ? null
                : CredentialSecrets.annotation(secret, CredentialSecrets.ROTATE_HANDLED)
                    .orElse(null);
        if (!t.rotateValue.equals(handled)) {
          out.add(t.key() + ": rotation " + t.rotateValue + " not done yet");
        }
      }
    }
    for (String storedName : inHarbor.keySet()) {
      if (!expected.contains(storedName)) {
        out.add("Harbor robot " + storedName + " owned by no HarborRobot");
      }
    }
    return out;
  }

  private static String readyText(HarborRobot r) {
    if (r == null) {
      return "missing";
    }
    return OperatorHarness.ready(r)
        .map(
            c ->
                c.getStatus()
                    + "/"
                    + c.getReason()
                    + " (generation "
                    + c.getObservedGeneration()
                    + " of "
                    + r.getMetadata().getGeneration()
                    + ")")
        .orElse("no Ready condition");
  }

  /** The checks of the end state, beyond convergence: Harbor's copy, Secrets, deletions. */
  private List<String> endStateProblems(List<Tracked> rotated) {
    List<String> out = new ArrayList<>(divergence());
    Map<String, List<EmulatedRobot>> inHarbor = harborRobots();
    Map<String, HarborRobot> present = robotsByKey();
    Map<String, Secret> secrets = secretsByKey();
    for (Tracked t : robots.values()) {
      Secret secret = secrets.get(t.key());
      if (t.deleted) {
        if (secret != null) {
          out.add(t.key() + ": deleted, but its Secret is still there");
        }
        if (harbor.findRobot(t.namespace, t.name).isPresent()) {
          out.add(t.key() + ": deleted, but its robot is still in Harbor");
        }
        continue;
      }
      HarborRobot r = present.get(t.key());
      List<EmulatedRobot> found = inHarbor.getOrDefault(t.storedName(), List.of());
      if (r == null || found.size() != 1) {
        continue; // already reported by divergence()
      }
      EmulatedRobot robot = found.get(0);
      out.addAll(harborCopyProblems(t, r, robot));
      out.addAll(secretProblems(t, r, robot, secret));
    }
    for (Tracked t : rotated) {
      if (!t.deleted
          && harbor.credentialsWork(t.usernameBeforeRotation, t.passwordBeforeRotation)) {
        out.add(
            t.key() + ": the credential from before rotation " + t.rotateValue + " still works");
      }
    }
    long managed =
        secrets.values().stream()
            .filter(
                s ->
                    s.getMetadata().getLabels() != null
                        && CredentialSecrets.MANAGED_BY_VALUE.equals(
                            s.getMetadata().getLabels().get(CredentialSecrets.MANAGED_BY_LABEL)))
            .count();
    if (managed != liveRobots().size()) {
      out.add(managed + " operator Secrets for " + liveRobots().size() + " HarborRobots");
    }
    return out;
  }

  private Map<String, HarborRobot> robotsByKey() {
    Map<String, HarborRobot> byKey = new HashMap<>();
    for (HarborRobot r : allRobots()) {
      byKey.put(r.getMetadata().getNamespace() + "/" + r.getMetadata().getName(), r);
    }
    return byKey;
  }

  /** Every Secret of the test's namespaces, by namespace/name. */
  private Map<String, Secret> secretsByKey() {
    Map<String, Secret> byKey = new HashMap<>();
    for (String namespace : namespaces) {
      for (Secret s : harness.client().secrets().inNamespace(namespace).list().getItems()) {
        byKey.put(namespace + "/" + s.getMetadata().getName(), s);
      }
    }
    return byKey;
  }

  /** Harbor's robot as the spec says: description, permissions, enabled, the status's id. */
  private static List<String> harborCopyProblems(Tracked t, HarborRobot r, EmulatedRobot robot) {
    List<String> out = new ArrayList<>();
    if (!DesiredRobot.of(r).harborDescription().equals(robot.description())) {
      out.add(t.key() + ": Harbor's description differs from the spec");
    }
    Set<String> permissions = new TreeSet<>();
    for (Permission p : r.getSpec().getPreset().permissions()) {
      p.getActions().forEach(a -> permissions.add(p.getResource() + ":" + a));
    }
    if (!permissions.equals(new TreeSet<>(robot.permissions()))) {
      out.add(
          t.key()
              + ": Harbor's permissions "
              + new TreeSet<>(robot.permissions())
              + " differ from preset "
              + r.getSpec().getPreset());
    }
    if (robot.disabled()) {
      out.add(t.key() + ": disabled in Harbor");
    }
    if (r.getStatus() == null || !Long.valueOf(robot.id()).equals(r.getStatus().getRobotId())) {
      out.add(t.key() + ": status names robot id other than Harbor's " + robot.id());
    }
    return out;
  }

  /**
   * The Secret: owned, its docker config logs in to the registry (a real {@code GET /v2/}), with
   * the login name Harbor gives the robot and the password Harbor holds, and nothing half done in
   * its bookkeeping (no pending password, no create token, the applied mark naming this robot and
   * this password).
   */
  private List<String> secretProblems(
      Tracked t, HarborRobot r, EmulatedRobot robot, Secret secret) {
    List<String> out = new ArrayList<>();
    if (secret == null) {
      out.add(t.key() + ": no Secret");
      return out;
    }
    if (!CredentialSecrets.isOwnedBy(secret, r)) {
      out.add(t.key() + ": Secret not owned by its HarborRobot");
    }
    if (!harness.dockerConfigLogsIn(secret)) {
      out.add(t.key() + ": the Secret's docker config does not log in to the registry");
    }
    String[] credential = credential(secret);
    if (credential == null) {
      out.add(t.key() + ": no credential for " + harbor.registryHost() + " in the Secret");
      return out;
    }
    if (!credential[0].equals(robot.fullName())) {
      out.add(t.key() + ": Secret's username is not Harbor's name " + robot.fullName());
    }
    if (!harbor.credentialsWork(robot.fullName(), credential[1])) {
      out.add(t.key() + ": the Secret's password is not the one Harbor holds");
    }
    if (CredentialSecrets.pendingPassword(secret).isPresent()
        || CredentialSecrets.annotation(secret, CredentialSecrets.PENDING).isPresent()) {
      out.add(t.key() + ": a pending password was left in the Secret");
    }
    if (CredentialSecrets.annotation(secret, CredentialSecrets.CREATE_TOKEN).isPresent()) {
      out.add(t.key() + ": a create token was left in the Secret");
    }
    if (!CredentialSecrets.appliedMarker(robot.id(), credential[1])
        .equals(CredentialSecrets.annotation(secret, CredentialSecrets.APPLIED).orElse(null))) {
      out.add(t.key() + ": the Secret's applied mark is not this robot and password");
    }
    return out;
  }

  /** Username and password of the registry's entry in the Secret's docker config, or null. */
  private static String[] credential(Secret secret) {
    if (secret.getData() == null || !secret.getData().containsKey(".dockerconfigjson")) {
      return null;
    }
    try {
      JsonNode entry =
          JSON.readTree(Base64.getDecoder().decode(secret.getData().get(".dockerconfigjson")))
              .path("auths")
              .path(harbor.registryHost());
      String auth =
          new String(
              Base64.getDecoder().decode(entry.path("auth").asText("")), StandardCharsets.UTF_8);
      int colon = auth.indexOf(':');
      return colon <= 0 ? null : new String[] {auth.substring(0, colon), auth.substring(colon + 1)};
    } catch (IOException | IllegalArgumentException e) {
      return null;
    }
  }

  // -------------------------------------------------------------------------------------------
  // the request bound

  /**
   * Requests a new robot costs (RobotSync: the create goes first, and carries the description with
   * the operator's marker, so no PUT follows it): the project lookup (kept for a second, so often
   * shared by a project's creates), POST, PATCH with the Secret's password, registry login. The
   * robot is looked up by name only when the create is answered 409 or its answer is lost.
   */
  static final int PER_CREATE = 4;

  /** A description or permission change: GET, PUT, and a login if one falls due. */
  static final int PER_UPDATE = 3;

  /** A rotation: GET, PATCH with the new secret, login with it. */
  static final int PER_ROTATION = 3;

  /** A deletion: GET of the recorded robot, DELETE. */
  static final int PER_DELETION = 2;

  /**
   * Per robot at each start: one pass (GET) and a login, as credential checks are kept in memory
   * only.
   */
  static final int PER_ROBOT_AND_START = 2;

  /**
   * A failed POST, which the client does not repeat: a refused one is sent again by the next pass,
   * after its project lookup; one whose answer was lost (or came after the read timeout) is
   * resolved in the same pass by a project lookup and a lookup by name that finds the robot it made
   * (should the lookup fail, a later pass looks again before any new create). The rest of the
   * create (PATCH, login) is sent once either way and is counted in {@link #PER_CREATE}.
   */
  static final int PER_FAILED_CREATE = 2;

  /** Any other failed call: the client's repeat. */
  static final int PER_FAILED_CALL = 1;

  /**
   * Registry logins per robot-second in the steady state: a robot's credential check falls due once
   * per check period (3 s in the harness), at most a twentieth of it early (CredentialChecks), and
   * is made on a pass of the robot: 1 / (0.95 × 3 s) ≈ 0.35.
   */
  static final double STEADY_PER_ROBOT_SECOND =
      20.0 / 19 / (OperatorHarness.CREDENTIAL_CHECKS.toMillis() / 1000.0);

  /**
   * Harbor requests per project-second for the passes of unchanged robots: a pass reads its robot
   * from a listing of the robot's project, shared by the project's robots and used for half the
   * resync period (docs/concepts.md, "Scheduling"), so a project whose robots fit one page costs at
   * most one list request per second, however many of its robots pass: 1 / 1 s. A robot written
   * since the listing is read by id, which the write's work accounts for.
   */
  static final double STEADY_PER_PROJECT_SECOND =
      1000.0 / OperatorHarness.RESYNC.dividedBy(2).toMillis();

  /** How long the steady state is watched after convergence: two credential-check periods. */
  static final Duration STEADY_WINDOW = OperatorHarness.CREDENTIAL_CHECKS.multipliedBy(2);

  /**
   * How many Harbor requests the run may take: what the work costs without faults, plus what each
   * fault may add, plus the steady state (docs/operations.md) for as long as the operator ran.
   *
   * <ul>
   *   <li>Work: {@value #PER_CREATE} per create, {@value #PER_UPDATE} per update, {@value
   *       #PER_ROTATION} per rotation, {@value #PER_DELETION} per deletion, {@value
   *       #PER_ROBOT_AND_START} per live robot at each (re)start.
   *   <li>Faults: every request Harbor refused (5xx, 429) or that got no answer (a lost response, a
   *       latency spike past the read timeout) costs at most the client's repeat ({@value
   *       #PER_FAILED_CALL}), or, for a POST, which the client does not repeat, the project lookup
   *       and the POST again, or the lookups that find the robot it made ({@value
   *       #PER_FAILED_CREATE}).
   *   <li>Steady state: {@link #STEADY_PER_ROBOT_SECOND} (0.35) login per robot-second of operator
   *       uptime, robots and uptime integrated as the test goes, and {@link
   *       #STEADY_PER_PROJECT_SECOND} (1) listing per project-second of uptime. The connection
   *       controller adds a systeminfo per connection per connection-check period, and one per
   *       connection at each start.
   * </ul>
   *
   * Every term is an upper bound, and the runs so far took about half of it. A storm of reads on
   * every pass (two requests more per pass: with two passes per robot in 3 s, 1.3 per robot-second,
   * about 4,000 more in a run) breaks it; a single extra request per pass is caught by {@link
   * #steadyBound}, where there is nothing else to hide it.
   */
  private long requestBound() {
    long work =
        (long) PER_CREATE * robots.size()
            + (long) PER_UPDATE * updates
            + (long) PER_ROTATION * ROTATIONS
            + (long) PER_DELETION * DELETIONS
            + (long) PER_ROBOT_AND_START * liveAtRestarts;
    long failedCreates =
        refusedByMethod.getOrDefault("POST", new AtomicInteger()).get() + clientIoErrors("POST");
    long failedOthers =
        refusedByMethod.values().stream().mapToLong(AtomicInteger::get).sum()
            + clientIoErrors(null)
            - failedCreates;
    long faultCost = PER_FAILED_CREATE * failedCreates + PER_FAILED_CALL * failedOthers;
    long steady =
        Math.round(
            robotSeconds * STEADY_PER_ROBOT_SECOND
                + namespaces.size() * uptimeSeconds * STEADY_PER_PROJECT_SECOND);
    long connections =
        Math.round(
            3
                * (uptimeSeconds / OperatorHarness.CONNECTION_CHECKS.toSeconds()
                    + restarts.size()
                    + 1));
    boundParts =
        String.format(
            "work %d + faults %d (%d failed creates, %d other failed calls) + steady %d (%.0f"
                + " robot-seconds in %.0f s of uptime, %d projects) + connections %d",
            work,
            faultCost,
            failedCreates,
            failedOthers,
            steady,
            robotSeconds,
            uptimeSeconds,
            namespaces.size(),
            connections);
    return work + faultCost + steady + connections;
  }

  /**
   * The steady state's bound for {@code robots} robots in {@code projects} projects over {@code
   * seconds}: {@link #STEADY_PER_ROBOT_SECOND} (0.35) login per robot-second, plus one per robot
   * that the window's start may catch; {@link #STEADY_PER_PROJECT_SECOND} (1) listing per
   * project-second, plus one at the start; and the connection controller's systeminfo, one per
   * connection every connection-check period (2 s), plus one at each edge. One more request per
   * pass (a GET by id, a lookup by name, the project), such as passes that no longer share their
   * project's listing, breaks it.
   */
  private static long steadyBound(int robots, int projects, double seconds) {
    double connections = 3 * (seconds / OperatorHarness.CONNECTION_CHECKS.toSeconds() + 2);
    return Math.round(
        robots * (seconds * STEADY_PER_ROBOT_SECOND + 1)
            + projects * (seconds * STEADY_PER_PROJECT_SECOND + 1)
            + connections);
  }
}
