package io.harborrobot.operator.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.bench.BenchOptions.Scenario;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Runs the scenarios of {@code bench} (docs/performance.md) and reports them. Each run gets a world
 * of its own (API server, Harbor emulator, operator process), so that no run inherits another's
 * objects, caches or JIT state.
 */
final class Bench {

  /**
   * The fewest Harbor requests a new robot needs the way this operator works: the create ({@code
   * POST /robots}; Harbor ignores a secret in it and returns its own), the secret the operator
   * generated and stored in the Secret first ({@code PATCH /robots/{id}}, DESIGN.md §4.2), and the
   * registry login that checks the stored credential after a change ({@code GET /v2/}, §4.3).
   * Looking the project or the robot up first, reading the robot back, or a PUT are not needed by
   * Harbor's API: the POST takes the project by name, answers 409 when the robot exists, and
   * returns the id and full name.
   */
  static final List<String> MINIMAL_REQUESTS =
      List.of("POST /api/v2.0/robots", "PATCH /api/v2.0/robots/{id}", "GET /v2/");

  static final int MINIMAL_REQUESTS_PER_ROBOT = MINIMAL_REQUESTS.size();

  /** The credential-check period that keeps checks out of the resync window (phase 1). */
  static final Duration NO_CREDENTIAL_CHECKS = Duration.ofHours(24);

  /** Connection probes are per connection, not per robot: kept out of the windows. */
  static final Duration CONNECTION_CHECKS = Duration.ofHours(1);

  /** Production defaults (Main's run command) for the scenarios that do not set their own. */
  static final Duration DEFAULT_RESYNC = Duration.ofMinutes(10);

  static final Duration DEFAULT_CREDENTIAL_CHECKS = Duration.ofMinutes(30);

  private final BenchOptions options;
  private final PrintStream out;
  private final Report report;

  Bench(BenchOptions options, PrintStream out) {
    this.options = options;
    this.out = out;
    this.report = new Report(options);
  }

  /** Runs every scenario asked for; 0 when all completed, 1 when one could not. */
  int run() throws Exception {
    out.printf(
        "harbor-robot-operator bench: %s%n  machine: %s%n  work folder (kubeconfig, operator"
            + " logs): %s%n",
        options.commandLine(), Report.machineLine(), options.workDir().toAbsolutePath());
    boolean complete = true;
    for (Duration latency : options.latencies()) {
      if (options.runs(Scenario.cold) || options.runs(Scenario.steady)) {
        for (int robots : options.robots()) {
          complete &= guarded("cold/steady", () -> coldAndSteady(robots, latency));
        }
      }
      if (options.runs(Scenario.latency)) {
        complete &= guarded("latency", () -> latency(latency));
      }
    }
    if (options.runs(Scenario.startup)) {
      complete &= guarded("startup", this::startup);
    }
    if (options.runs(Scenario.memory)) {
      complete &= guarded("memory", this::memory);
    }
    report.print(out);
    if (options.json() != null) {
      report.writeJson(options.json());
      out.printf("%nJSON written to %s%n", options.json().toAbsolutePath());
    }
    return complete ? 0 : 1;
  }

  private interface Run {
    boolean run() throws Exception;
  }

  /** Runs one part; a failure is reported and the other parts still run. */
  private boolean guarded(String what, Run run) {
    try {
      return run.run();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (Exception e) {
      out.printf("  %s failed: %s%n", what, e);
      report.failure(what, e);
      return false;
    }
  }

  private BenchWorld world(Duration latency) {
    return BenchWorld.start(
        options.workDir(), latency, options.maxConcurrentRequests(), options.requestsPerSecond());
  }

  private OperatorProcess.Settings settings(Duration resync, Duration credentialChecks) {
    return new OperatorProcess.Settings(
        resync,
        credentialChecks,
        CONNECTION_CHECKS,
        options.operatorMemoryLimit(),
        options.operatorJvmOptions());
  }

  private void startOperatorAndConnection(BenchWorld world, OperatorProcess.Settings settings)
      throws InterruptedException {
    OperatorProcess operator = world.startOperator(settings);
    report.operatorJvm(operator.jvmFlags());
    if (!world.awaitConnectionReady(Duration.ofMinutes(2))) {
      throw new IllegalStateException(
          "the ClusterHarborConnection did not become Ready; see "
              + operator.log().toAbsolutePath());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // cold start and steady state

  /** The resync period of a steady-state run of {@code robots} robots at {@code latency}. */
  Duration resyncPeriod(int robots, Duration latency) {
    if (options.resyncPeriod() != null) {
      return options.resyncPeriod();
    }
    long millis = 3L * robots * latency.toMillis() / options.maxConcurrentRequests();
    Duration auto = Duration.ofSeconds((millis + 999) / 1000);
    return auto.compareTo(Duration.ofSeconds(30)) < 0 ? Duration.ofSeconds(30) : auto;
  }

  private boolean coldAndSteady(int n, Duration latency) throws Exception {
    Duration resync = resyncPeriod(n, latency);
    out.printf(
        "%n[cold%s] %d robots, Harbor latency %s, maxConcurrentRequests %d%n",
        options.runs(Scenario.steady) ? "+steady" : "",
        n,
        Report.millis(latency),
        options.maxConcurrentRequests());
    try (BenchWorld world = world(latency)) {
      int teams = (n + options.robotsPerProject() - 1) / options.robotsPerProject();
      List<String> namespaces = world.createTeams(0, teams);
      List<HarborRobot> robots = BenchWorld.robots(namespaces, 0, n, options.robotsPerProject());
      List<String> keys = robots.stream().map(BenchWorld::key).toList();
      startOperatorAndConnection(world, settings(resync, NO_CREDENTIAL_CHECKS));

      double load = Report.loadAverage();
      Snapshot before = Snapshot.take(world);
      world.apply(robots);
      long applied = System.nanoTime();
      int ready = world.awaitAll(keys, world.readyAt(), options.readyTimeout());
      Snapshot after = Snapshot.take(world);
      long lastReady = BenchWorld.latest(keys, world.readyAt());
      int works = world.awaitAll(keys, world.worksAt(), Duration.ofSeconds(30));
      long lastWorks = BenchWorld.latest(keys, world.worksAt());

      ObjectNode cold = report.result(Scenario.cold, latency);
      cold.put("robots", n);
      cold.put("projects", teams);
      cold.put("complete", ready == n);
      cold.put("ready", ready);
      cold.put("workingSecrets", world.workingSecrets(keys));
      cold.put("seconds", Report.seconds(lastReady - before.nanos()));
      cold.put("applySeconds", Report.seconds(applied - before.nanos()));
      cold.put(
          "allSecretsWorkingSeconds",
          works == n ? Report.seconds(lastWorks - before.nanos()) : null);
      Diff harbor = Diff.of(before.harbor(), after.harbor());
      cold.put("harborRequests", harbor.total());
      cold.put("harborRequestsPerRobot", Report.round(harbor.total() / (double) n));
      cold.set("harborRequestsPerRobotByRoute", harbor.perUnit(n, cold));
      cold.set("harborRequestsByRoute", harbor.json(cold));
      cold.put("harborMaxConcurrentRequests", world.harbor().maxConcurrentRequests());
      cold.put("minimalRequestsPerRobot", MINIMAL_REQUESTS_PER_ROBOT);
      double lowerBound =
          n
              * MINIMAL_REQUESTS_PER_ROBOT
              * (latency.toNanos() / 1e9)
              / options.maxConcurrentRequests();
      cold.put("lowerBoundSeconds", Report.round(lowerBound));
      double seconds = (lastReady - before.nanos()) / 1e9;
      if (lowerBound > 0 && ready == n) {
        cold.put("ratioToLowerBound", Report.round(seconds / lowerBound));
      } else {
        cold.putNull("ratioToLowerBound");
      }
      cold.put("robotReconciles", after.reconciles() - before.reconciles());
      Diff kubernetes = Diff.of(before.kubernetes(), after.kubernetes());
      cold.put("kubernetesRequestsPerRobot", Report.round(kubernetes.total() / (double) n));
      cold.set("kubernetesRequestsPerRobotByKind", kubernetes.perUnit(n, cold));
      cold.put("operatorCpuSeconds", Report.round(after.operatorCpu() - before.operatorCpu()));
      cold.put(
          "operatorCpuMsPerRobot",
          Report.round((after.operatorCpu() - before.operatorCpu()) * 1000 / n));
      cold.put("benchCpuSeconds", Report.round(after.benchCpu() - before.benchCpu()));
      cold.put("loadAverage", load);
      if (options.runs(Scenario.cold)) {
        report.add(cold);
      }
      out.printf(
          "  %d/%d Ready in %.1fs; %.2f Harbor requests per robot; lower bound %.1fs%n",
          ready, n, seconds, harbor.total() / (double) n, lowerBound);
      if (ready < n) {
        return false;
      }
      if (options.runs(Scenario.steady)) {
        return steady(world, n, latency, resync, lastReady);
      }
      return true;
    }
  }

  /**
   * Steady state after a cold start: Harbor requests over one resync period with no credential
   * check due (phase 1), then, after a restart with the credential-check period set to the resync
   * period, over one period in which every robot's credential is checked once (phase 2). Each
   * window starts one full period after the robots' last reconcile wave, so that it holds the
   * periodic reconciles only.
   */
  private boolean steady(BenchWorld world, int n, Duration latency, Duration resync, long lastReady)
      throws Exception {
    out.printf("  steady state: resync period %s, one period settling and one measured%n", resync);
    ObjectNode steady = report.result(Scenario.steady, latency);
    steady.put("robots", n);
    steady.put("resyncPeriodSeconds", Report.round(resync.toMillis() / 1000.0));
    steady.put("windowSeconds", Report.round(resync.toMillis() / 1000.0));
    steady.put("loadAverage", Report.loadAverage());

    sleepUntil(lastReady + resync.toNanos());
    Window resyncs = Window.measure(world, resync);
    ObjectNode phase1 = resyncs.json(n, steady);
    phase1.put("credentialCheckPeriodSeconds", NO_CREDENTIAL_CHECKS.toSeconds());
    steady.set("resync", phase1);
    // In steady state each reconcile of a robot is one of its resyncs: per reconcile is per robot
    // per resync, whatever the window's edges cut off.
    double perResync = resyncs.harbor().total() / (double) Math.max(1, resyncs.reconciles());
    steady.put("harborRequestsPerRobotPerResync", Report.round(perResync));
    out.printf(
        "  resync: %.3f Harbor requests per robot per resync (%d requests, %d reconciles)%n",
        perResync, resyncs.harbor().total(), resyncs.reconciles());

    // Phase 2: a restart forgets when credentials were checked; every robot is reconciled and its
    // credential checked at once, then at every resync.
    Snapshot beforeRestart = Snapshot.take(world);
    world.stopOperator();
    OperatorProcess operator = world.startOperator(settings(resync, resync));
    long spawned = operator.startedNanos();
    long deadline = System.nanoTime() + options.readyTimeout().toNanos();
    while (operator.robotReconcilesSucceeded() < n && System.nanoTime() < deadline) {
      if (!operator.alive()) {
        throw new IllegalStateException(
            "the operator process ended; see " + operator.log().toAbsolutePath());
      }
      Thread.sleep(n > 1000 ? 1000 : 250);
    }
    long restarted = System.nanoTime();
    boolean restartComplete = operator.robotReconcilesSucceeded() >= n;
    // the wave's stragglers (reconciles that events started after the first) end before Harbor
    // goes quiet
    awaitQuietHarbor(world, Duration.ofSeconds(1), resync.dividedBy(2));
    Snapshot afterRestart = Snapshot.take(world);
    ObjectNode restart = steady.putObject("restart");
    restart.put("complete", restartComplete);
    restart.put("seconds", Report.seconds(restarted - spawned));
    restart.put("reconcilesPerRobot", Report.round(afterRestart.reconciles() / (double) n));
    Diff restartHarbor = Diff.of(beforeRestart.harbor(), afterRestart.harbor());
    restart.put("harborRequestsPerRobot", Report.round(restartHarbor.total() / (double) n));
    restart.set("harborRequestsPerRobotByRoute", restartHarbor.perUnit(n, steady));
    Diff restartKubernetes = Diff.of(beforeRestart.kubernetes(), afterRestart.kubernetes());
    restart.put("kubernetesRequestsPerRobot", Report.round(restartKubernetes.total() / (double) n));
    restart.set("kubernetesRequestsPerRobotByKind", restartKubernetes.perUnit(n, steady));

    sleepUntil(restarted + resync.toNanos());
    Window checks = Window.measure(world, resync);
    ObjectNode phase2 = checks.json(n, steady);
    phase2.put("credentialCheckPeriodSeconds", Report.round(resync.toMillis() / 1000.0));
    long logins = checks.harbor().get("GET /v2/");
    phase2.put("registryLogins", logins);
    steady.set("withCredentialChecks", phase2);
    // what the checks add to the resyncs of the same reconciles, per check
    Double perVerification =
        logins == 0
            ? null
            : Report.round(
                (checks.harbor().total() - checks.reconciles() * perResync) / (double) logins);
    steady.put("harborRequestsPerVerification", perVerification);
    double perResyncWithChecks =
        checks.harbor().total() / (double) Math.max(1, checks.reconciles());
    steady.put("harborRequestsPerRobotPerResyncWithChecks", Report.round(perResyncWithChecks));
    report.add(steady);
    out.printf(
        "  with credential checks: %.3f Harbor requests per robot per resync, %d registry logins"
            + " in %d reconciles; %s requests per verification%n",
        perResyncWithChecks, logins, checks.reconciles(), perVerification);
    return restartComplete;
  }

  /** Requests and reconciles over one window of the operator's life. */
  record Window(Diff harbor, Diff kubernetes, long reconciles, double seconds, double operatorCpu) {

    /**
     * About {@code length} of the operator's life, from a moment when Harbor is quiet to the next
     * one: a wave of reconciles is counted whole or not at all, requests and reconciles alike. When
     * there is no quiet moment (robots reconciled all the time) the edges cut, and the error is the
     * reconciles in flight there.
     */
    static Window measure(BenchWorld world, Duration length) throws InterruptedException {
      awaitQuietHarbor(world, QUIET, length.dividedBy(4));
      Snapshot start = Snapshot.take(world);
      sleepUntil(start.nanos() + length.toNanos());
      awaitQuietHarbor(world, QUIET, length.dividedBy(4));
      Snapshot end = Snapshot.take(world);
      return new Window(
          Diff.of(start.harbor(), end.harbor()),
          Diff.of(start.kubernetes(), end.kubernetes()),
          end.reconciles() - start.reconciles(),
          (end.nanos() - start.nanos()) / 1e9,
          end.operatorCpu() - start.operatorCpu());
    }

    ObjectNode json(int robots, ObjectNode parent) {
      ObjectNode node = parent.objectNode();
      node.put("harborRequests", harbor.total());
      node.put("harborRequestsPerRobot", Report.round(harbor.total() / (double) robots));
      node.set("harborRequestsByRoute", harbor.json(parent));
      node.put("reconciles", reconciles);
      node.put("reconcilesPerRobot", Report.round(reconciles / (double) robots));
      node.put(
          "harborRequestsPerReconcile",
          reconciles == 0 ? null : Report.round(harbor.total() / (double) reconciles));
      node.put("kubernetesRequestsPerRobot", Report.round(kubernetes.total() / (double) robots));
      node.set("kubernetesRequestsByKind", kubernetes.json(parent));
      node.put("measuredSeconds", Report.round(seconds));
      node.put("operatorCpuSeconds", Report.round(operatorCpu));
      return node;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // single-robot latency

  private boolean latency(Duration latency) throws Exception {
    out.printf(
        "%n[latency] %d robots one at a time (after %d not counted), Harbor latency %s%n",
        options.latencySamples(), options.latencyWarmup(), Report.millis(latency));
    try (BenchWorld world = world(latency)) {
      List<String> namespaces = world.createTeams(0, 1);
      startOperatorAndConnection(world, settings(DEFAULT_RESYNC, DEFAULT_CREDENTIAL_CHECKS));
      ObjectNode result = report.result(Scenario.latency, latency);
      result.put("loadAverage", Report.loadAverage());
      List<Double> works = new ArrayList<>();
      List<Double> ready = new ArrayList<>();
      long requests = 0;
      int total = options.latencyWarmup() + options.latencySamples();
      Snapshot counted = null;
      for (int i = 0; i < total; i++) {
        if (i == options.latencyWarmup()) {
          counted = Snapshot.take(world);
        }
        HarborRobot robot = BenchWorld.robot(namespaces.get(0), String.format("single-%04d", i), i);
        String key = BenchWorld.key(robot);
        int before = world.harbor().requestCount();
        long start = System.nanoTime();
        world.create(robot);
        List<String> one = List.of(key);
        if (world.awaitAll(one, world.worksAt(), Duration.ofMinutes(2)) == 0
            || world.awaitAll(one, world.readyAt(), Duration.ofMinutes(2)) == 0) {
          throw new IllegalStateException(key + " did not become Ready with a working Secret");
        }
        if (i >= options.latencyWarmup()) {
          works.add((world.worksAt().get(key) - start) / 1e6);
          ready.add((world.readyAt().get(key) - start) / 1e6);
          requests += world.harbor().requestCount() - before;
        }
      }
      result.put("samples", options.latencySamples());
      result.put("warmup", options.latencyWarmup());
      result.set("secretWorksMs", Report.distribution(works, result));
      result.set("readyMs", Report.distribution(ready, result));
      result.put(
          "harborRequestsPerRobot", Report.round(requests / (double) options.latencySamples()));
      Snapshot after = Snapshot.take(world);
      result.set(
          "harborRequestsPerRobotByRoute",
          Diff.of(counted.harbor(), after.harbor()).perUnit(options.latencySamples(), result));
      result.put(
          "reconcilesPerRobot",
          Report.round(
              (after.reconciles() - counted.reconciles()) / (double) options.latencySamples()));
      report.add(result);
      out.printf(
          "  working Secret p50 %.0f ms, p99 %.0f ms; Ready p50 %.0f ms, p99 %.0f ms%n",
          Report.percentile(works, 50),
          Report.percentile(works, 99),
          Report.percentile(ready, 50),
          Report.percentile(ready, 99));
      return true;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // start-up

  /**
   * From spawning the process to {@code /readyz}, to the first HarborRobot reconcile started and to
   * the first one finished; with the process' RSS and threads when the first one started.
   */
  record Startup(
      double readyzSeconds,
      double firstReconcileSeconds,
      double firstReconcileDoneSeconds,
      long rssBytes,
      int threads) {}

  private Startup awaitStartup(OperatorProcess operator, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long readyz = -1;
    long firstReconcile = -1;
    long firstDone = -1;
    OperatorProcess.ProcStatus status = null;
    while ((readyz < 0 || firstReconcile < 0 || firstDone < 0) && System.nanoTime() < deadline) {
      if (!operator.alive()) {
        throw new IllegalStateException(
            "the operator process ended; see " + operator.log().toAbsolutePath());
      }
      if (firstReconcile < 0 || firstDone < 0) {
        var metrics = operator.metrics();
        if (metrics.isPresent()) {
          long now = System.nanoTime();
          if (firstReconcile < 0
              && metrics
                      .get()
                      .sum("operator_sdk_reconciliations_started_total", "kind", "HarborRobot")
                  > 0) {
            firstReconcile = now;
            status = operator.procStatus();
          }
          if (firstDone < 0
              && metrics
                      .get()
                      .sum("operator_sdk_reconciliations_success_total", "kind", "HarborRobot")
                  > 0) {
            firstDone = now;
          }
        }
      }
      if (readyz < 0 && operator.ready()) {
        readyz = System.nanoTime();
      }
      Thread.sleep(20);
    }
    if (readyz < 0 || firstReconcile < 0 || firstDone < 0) {
      throw new IllegalStateException(
          "the operator did not start within " + timeout + "; see " + operator.log());
    }
    return new Startup(
        Report.seconds(readyz - operator.startedNanos()),
        Report.seconds(firstReconcile - operator.startedNanos()),
        Report.seconds(firstDone - operator.startedNanos()),
        status.rssBytes(),
        status.threads());
  }

  /**
   * Restarts of an operator whose robots are all Ready, as after an upgrade: the first reconcile of
   * each run is a whole pass over an existing robot (a new robot's first reconcile only adds the
   * finalizer).
   */
  private boolean startup() throws Exception {
    Duration latency = options.latencies().get(0);
    out.printf(
        "%n[startup] %d operator starts with %d Ready HarborRobot(s) in the cluster%n",
        options.startupRuns(), options.startupRobots());
    try (BenchWorld world = world(latency)) {
      List<String> namespaces = world.createTeams(0, 1);
      List<HarborRobot> robots =
          BenchWorld.robots(namespaces, 0, options.startupRobots(), Integer.MAX_VALUE);
      List<String> keys = robots.stream().map(BenchWorld::key).toList();
      world.apply(robots);
      startOperatorAndConnection(world, settings(DEFAULT_RESYNC, DEFAULT_CREDENTIAL_CHECKS));
      if (world.awaitAll(keys, world.readyAt(), options.readyTimeout()) < keys.size()) {
        throw new IllegalStateException("the robots of the start-up scenario did not become Ready");
      }
      world.stopOperator();
      ObjectNode result = report.result(Scenario.startup, latency);
      result.put("robots", options.startupRobots());
      result.put("loadAverage", Report.loadAverage());
      ArrayNode runs = result.putArray("runs");
      List<Double> readyz = new ArrayList<>();
      List<Double> first = new ArrayList<>();
      List<Double> done = new ArrayList<>();
      for (int i = 0; i < options.startupRuns(); i++) {
        OperatorProcess operator =
            world.startOperator(settings(DEFAULT_RESYNC, DEFAULT_CREDENTIAL_CHECKS));
        Startup startup = awaitStartup(operator, Duration.ofMinutes(2));
        world.stopOperator();
        ObjectNode run = runs.addObject();
        run.put("readyzSeconds", startup.readyzSeconds());
        run.put("firstReconcileSeconds", startup.firstReconcileSeconds());
        run.put("firstReconcileDoneSeconds", startup.firstReconcileDoneSeconds());
        run.put("rssMiB", Report.mib(startup.rssBytes()));
        run.put("threads", startup.threads());
        readyz.add(startup.readyzSeconds());
        first.add(startup.firstReconcileSeconds());
        done.add(startup.firstReconcileDoneSeconds());
        out.printf(
            "  run %d: /readyz after %.2fs, first reconcile started after %.2fs, done after"
                + " %.2fs%n",
            i + 1,
            startup.readyzSeconds(),
            startup.firstReconcileSeconds(),
            startup.firstReconcileDoneSeconds());
      }
      result.put("readyzSeconds", Report.round(Report.percentile(readyz, 50)));
      result.put("firstReconcileSeconds", Report.round(Report.percentile(first, 50)));
      result.put("firstReconcileSecondsMax", Report.round(Report.percentile(first, 100)));
      result.put("firstReconcileDoneSeconds", Report.round(Report.percentile(done, 50)));
      report.add(result);
      return true;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // memory

  private boolean memory() throws Exception {
    int n = options.memoryRobots();
    int unrelated = options.memoryUnrelatedSecrets();
    Duration latency = options.memoryLatency();
    out.printf(
        "%n[memory] %d HarborRobots and %d unrelated Secrets in the cluster, Harbor latency %s%n",
        n, unrelated, Report.millis(latency));
    try (BenchWorld world = world(latency)) {
      long setupStart = System.nanoTime();
      int teams = (n + options.robotsPerProject() - 1) / options.robotsPerProject();
      List<String> namespaces = world.createTeams(0, teams);
      List<HarborRobot> robots = BenchWorld.robots(namespaces, 0, n, options.robotsPerProject());
      List<String> keys = robots.stream().map(BenchWorld::key).toList();
      world.apply(robots);
      world.createUnrelatedSecrets(namespaces, unrelated);
      double setup = Report.seconds(System.nanoTime() - setupStart);
      out.printf(
          "  cluster set up in %.1fs (%d objects); starting the operator%n",
          setup, world.api().objectCount());

      ObjectNode result = report.result(Scenario.memory, latency);
      result.put("robots", n);
      result.put("unrelatedSecrets", unrelated);
      result.put("namespaces", teams);
      result.put("apiServerObjects", world.api().objectCount());
      result.put("setupSeconds", setup);
      result.put("loadAverage", Report.loadAverage());
      OperatorProcess operator =
          world.startOperator(settings(DEFAULT_RESYNC, DEFAULT_CREDENTIAL_CHECKS));
      report.operatorJvm(operator.jvmFlags());
      Startup startup = awaitStartup(operator, Duration.ofMinutes(5));
      ObjectNode start = result.putObject("startup");
      start.put("readyzSeconds", startup.readyzSeconds());
      start.put("firstReconcileSeconds", startup.firstReconcileSeconds());
      result.set("afterStartup", sample(operator, result, -1));

      int maxThreads = 0;
      long deadline = System.nanoTime() + options.readyTimeout().toNanos();
      int ready = 0;
      while (System.nanoTime() < deadline) {
        ready = world.awaitAll(keys, world.readyAt(), Duration.ofSeconds(1));
        maxThreads = Math.max(maxThreads, operator.procStatus().threads());
        if (ready == n) {
          break;
        }
      }
      long allReady = BenchWorld.latest(keys, world.readyAt());
      result.put("allReady", ready == n);
      result.put("ready", ready);
      result.put(
          "readySeconds", ready == n ? Report.seconds(allReady - operator.startedNanos()) : null);
      out.printf("  %d/%d Ready; settling 10s, then a full GC%n", ready, n);
      Thread.sleep(10_000);
      result.set("steady", sample(operator, result, maxThreads));
      ObjectNode groups = result.putObject("threadsByName");
      operator.threadGroups().forEach(groups::put);
      result.put("collector", operator.collector());
      long maxHeap = operator.maxHeapBytes();
      result.put("maxHeapMiB", maxHeap < 0 ? null : Report.mib(maxHeap));
      ArrayNode lists = result.putArray("secretListsAndWatches");
      boolean filtered = true;
      for (String request : world.api().operatorSecretCollectionRequests()) {
        lists.add(request);
        filtered &= request.contains("labelSelector=");
      }
      result.put("secretListsAndWatchesFiltered", filtered);
      report.add(result);
      return ready == n;
    }
  }

  private ObjectNode sample(OperatorProcess operator, ObjectNode parent, int maxThreads) {
    OperatorProcess.HeapAfterGc heap = operator.heapAfterGc();
    OperatorProcess.ProcStatus status = operator.procStatus();
    ObjectNode node = parent.objectNode();
    node.put("heapAfterGcMiB", heap.bytes() < 0 ? null : Report.mib(heap.bytes()));
    node.put("heapAfterGcMethod", heap.method());
    node.put(
        "heapCommittedMiB", heap.committedBytes() < 0 ? null : Report.mib(heap.committedBytes()));
    node.put(
        "metaspaceCommittedMiB",
        heap.metaspaceBytes() < 0 ? null : Report.mib(heap.metaspaceBytes()));
    node.put("rssMiB", Report.mib(status.rssBytes()));
    node.put("peakRssMiB", Report.mib(status.peakRssBytes()));
    node.put("threads", status.threads());
    if (maxThreads >= 0) {
      node.put("maxThreadsSeen", Math.max(maxThreads, status.threads()));
    }
    out.printf(
        "  operator: heap after GC %s MiB, RSS %s MiB (peak %s), %d threads%n",
        heap.bytes() < 0 ? "?" : Report.mib(heap.bytes()),
        Report.mib(status.rssBytes()),
        Report.mib(status.peakRssBytes()),
        status.threads());
    return node;
  }

  // ---------------------------------------------------------------------------------------------
  // counting

  /**
   * Counters at one moment: Harbor's by route, the API server's by kind, the reconciles, and the
   * CPU time of the operator's process and of the bench's own (API server, emulator, bench).
   */
  record Snapshot(
      long nanos,
      Map<String, Long> harbor,
      Map<String, Long> kubernetes,
      long reconciles,
      double operatorCpu,
      double benchCpu) {

    static Snapshot take(BenchWorld world) {
      Map<String, Long> harbor = new TreeMap<>();
      world.harbor().requestCountsByRoute().forEach((k, v) -> harbor.put(k, (long) v));
      OperatorProcess operator = world.operator();
      return new Snapshot(
          System.nanoTime(),
          harbor,
          world.api().operatorRequests(),
          operator == null ? 0 : (long) operator.robotReconcilesStarted(),
          operator == null ? 0 : operator.cpuSeconds(),
          OperatorProcess.cpuSeconds(ProcessHandle.current()));
    }
  }

  /** What counters grew by between two snapshots, by key. */
  record Diff(Map<String, Long> counts) {

    static Diff of(Map<String, Long> before, Map<String, Long> after) {
      Map<String, Long> diff = new TreeMap<>();
      after.forEach(
          (k, v) -> {
            long d = v - before.getOrDefault(k, 0L);
            if (d != 0) {
              diff.put(k, d);
            }
          });
      return new Diff(diff);
    }

    long total() {
      return counts.values().stream().mapToLong(Long::longValue).sum();
    }

    long get(String key) {
      return counts.getOrDefault(key, 0L);
    }

    ObjectNode json(ObjectNode factory) {
      ObjectNode node = factory.objectNode();
      counts.forEach(node::put);
      return node;
    }

    ObjectNode perUnit(int units, ObjectNode factory) {
      ObjectNode node = factory.objectNode();
      counts.forEach((k, v) -> node.put(k, Report.round(v / (double) units)));
      return node;
    }
  }

  /** How long Harbor must get no request for the operator to count as between two reconciles. */
  static final Duration QUIET = Duration.ofMillis(300);

  /** Waits until Harbor got no request for {@code quiet}, or {@code atMost} passed. */
  private static void awaitQuietHarbor(BenchWorld world, Duration quiet, Duration atMost)
      throws InterruptedException {
    long deadline = System.nanoTime() + atMost.toNanos();
    int last = world.harbor().requestCount();
    long lastChange = System.nanoTime();
    while (System.nanoTime() < deadline && System.nanoTime() - lastChange < quiet.toNanos()) {
      Thread.sleep(20);
      int now = world.harbor().requestCount();
      if (now != last) {
        last = now;
        lastChange = System.nanoTime();
      }
    }
  }

  private static void sleepUntil(long nanos) throws InterruptedException {
    long wait = nanos - System.nanoTime();
    if (wait > 0) {
      Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
    }
  }
}
