package io.harborrobot.operator.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Secret;
import io.harborrobot.operator.OperatorHarness;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.Preset;
import io.harborrobot.operator.reconciler.RotationPlan;
import io.harborrobot.operator.sandbox.EmulatedRobot;
import io.harborrobot.operator.sandbox.HarborEmulator;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Soak run (issue 9), not part of {@code mvn verify}: the real operator against the in-memory API
 * server and the Harbor emulator (as {@link OperatorHarness#start()} wires them), a working set of
 * HarborRobots churned by creates, updates, deletes and rotation requests while Harbor answers with
 * seeded faults. Every sample period it prints one line (and appends one CSV row) with memory,
 * threads, Harbor requests and the consistency checks; at the end it turns the faults off, waits
 * for convergence and prints a summary. Exit status 0 when the end state is consistent (no lost
 * secret, duplicate or orphan; every robot Ready), 1 otherwise.
 *
 * <p>Run with {@code scripts/soak} (see docs/reliability.md). Options, as {@code --name=value}
 * arguments or {@code -Dsoak.name=value} system properties: {@code duration} (ISO-8601 or e.g.
 * {@code 30m}, default 30m), {@code robots} (100), {@code namespaces} (4), {@code errorRate} (0.05,
 * answered 503), {@code lostRate} (0.02), {@code spikeRate} (0.01), {@code spikeLatency} (2s),
 * {@code seed} (42), {@code tick} (3s), {@code sample} (30s), {@code gcEvery} (5m), {@code warmup}
 * (5m), {@code settle} (5m), {@code csv} (soak.csv).
 *
 * <p>The API server of this sandbox has no garbage collector and no Event TTL, which a real cluster
 * has, and it records every request it serves: the runner stands in for the first two, deleting
 * Secrets whose owning HarborRobot is gone and Events about objects that are gone, and drops the
 * record of requests, so that the memory figures are not dominated by the stand-in API server
 * piling up objects a real one would drop.
 */
public final class SoakRun {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] DESCRIPTIONS = {"", "soak robot", "pulled by the soak", "ci"};
  private static final Preset[] PRESETS = Preset.values();

  private final Map<String, String> options;
  private final Duration duration;
  private final int robots;
  private final int namespaceCount;
  private final double errorRate;
  private final double lostRate;
  private final double spikeRate;
  private final Duration spikeLatency;
  private final long seed;
  private final Duration tick;
  private final Duration sample;
  private final Duration gcEvery;
  private final Duration warmup;
  private final Duration settle;
  private final Path csv;

  private final Random dice;
  private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
  private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
  private final List<String> teams = new ArrayList<>();
  private final List<Sample> samples = new ArrayList<>();
  private final AtomicLong nameCounter = new AtomicLong();
  private final Map<String, Long> ops = new LinkedHashMap<>();
  private OperatorHarness harness;
  private Instant started;
  private long lastGcAt = -1;
  private int lastRequests;
  private long lastSampleNanos;

  private SoakRun(Map<String, String> options) {
    this.options = options;
    duration = duration("duration", "30m");
    robots = Integer.parseInt(option("robots", "100"));
    namespaceCount = Integer.parseInt(option("namespaces", "4"));
    errorRate = Double.parseDouble(option("errorRate", "0.05"));
    lostRate = Double.parseDouble(option("lostRate", "0.02"));
    spikeRate = Double.parseDouble(option("spikeRate", "0.01"));
    spikeLatency = duration("spikeLatency", "2s");
    seed = Long.parseLong(option("seed", "42"));
    tick = duration("tick", "3s");
    sample = duration("sample", "30s");
    gcEvery = duration("gcEvery", "5m");
    warmup = duration("warmup", "5m");
    settle = duration("settle", "5m");
    csv = Path.of(option("csv", "soak.csv"));
    dice = new Random(seed);
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> options = new HashMap<>();
    for (String arg : args) {
      if (!arg.startsWith("--") || !arg.contains("=")) {
        throw new IllegalArgumentException("expected --name=value, got " + arg);
      }
      options.put(arg.substring(2, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
    }
    int status;
    try {
      status = new SoakRun(options).run();
    } catch (Throwable t) {
      t.printStackTrace();
      status = 2;
    }
    System.out.flush();
    System.exit(status);
  }

  private String option(String name, String fallback) {
    return options.getOrDefault(name, System.getProperty("soak." + name, fallback));
  }

  private Duration duration(String name, String fallback) {
    return parseDuration(option(name, fallback));
  }

  static Duration parseDuration(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.startsWith("p")) {
      return Duration.parse(text.toUpperCase(Locale.ROOT));
    }
    if (t.endsWith("ms")) {
      return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
    }
    long n = Long.parseLong(t.substring(0, t.length() - 1));
    return switch (t.charAt(t.length() - 1)) {
      case 's' -> Duration.ofSeconds(n);
      case 'm' -> Duration.ofMinutes(n);
      case 'h' -> Duration.ofHours(n);
      default -> throw new IllegalArgumentException("duration like 30m, 90s, 1h: " + text);
    };
  }

  private int run() throws Exception {
    System.out.printf(
        "soak: duration=%s robots=%d namespaces=%d errorRate=%.3f(503) lostRate=%.3f"
            + " spikes=%.3f x %s seed=%d tick=%s sample=%s gcEvery=%s warmup=%s csv=%s%n",
        duration,
        robots,
        namespaceCount,
        errorRate,
        lostRate,
        spikeRate,
        spikeLatency,
        seed,
        tick,
        sample,
        gcEvery,
        warmup,
        csv.toAbsolutePath());
    System.out.printf(
        "soak: java %s (%s), %d CPUs, max heap %d MiB%n",
        System.getProperty("java.version"),
        System.getProperty("java.vm.name"),
        Runtime.getRuntime().availableProcessors(),
        Runtime.getRuntime().maxMemory() >> 20);
    harness = OperatorHarness.start();
    try (OperatorHarness h = harness) {
      for (int i = 0; i < namespaceCount; i++) {
        teams.add(h.newTeam());
      }
      Files.writeString(csv, Sample.CSV_HEADER + "\n", StandardCharsets.UTF_8);
      System.out.println(Sample.HEADER);
      started = Instant.now();
      lastSampleNanos = System.nanoTime();
      lastRequests = h.harbor().requestCount();
      for (int i = 0; i < robots; i++) {
        createOne();
      }
      faultsOn();
      long end = System.nanoTime() + duration.toNanos();
      long nextSample = System.nanoTime() + sample.toNanos();
      while (System.nanoTime() < end) {
        churn();
        sleepUntil(Math.min(System.nanoTime() + tick.toNanos(), nextSample));
        if (System.nanoTime() >= nextSample) {
          takeSample("churn");
          nextSample += sample.toNanos();
        }
      }
      h.harbor().clearFaults();
      System.out.println(
          "soak: churn over, faults off; waiting for convergence (at most " + settle + ")");
      boolean converged = awaitConvergence();
      takeSample("final");
      return summary(converged);
    }
  }

  private void faultsOn() {
    HarborEmulator harbor = harness.harbor();
    harbor.setSeed(seed);
    harbor.setErrorRate(errorRate, 503);
    harbor.setLostResponseRate(lostRate);
    harbor.setLatencySpikes(spikeRate, spikeLatency);
  }

  private static void sleepUntil(long nanos) throws InterruptedException {
    long wait = nanos - System.nanoTime();
    if (wait > 0) {
      Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
    }
  }

  // -------------------------------------------------------------------------------------------
  // churn

  /** One round: a few deletes, creates back to the working set, updates and rotation requests. */
  private void churn() {
    List<HarborRobot> live = liveRobots();
    int deletes = 1 + dice.nextInt(3);
    for (int i = 0; i < deletes && !live.isEmpty(); i++) {
      HarborRobot victim = live.remove(dice.nextInt(live.size()));
      attempt("delete", () -> harness.client().resource(victim).delete());
    }
    int creates = Math.max(0, robots - live.size());
    for (int i = 0; i < creates; i++) {
      attempt("create", this::createOne);
    }
    int updates = 2 + dice.nextInt(3);
    for (int i = 0; i < updates && !live.isEmpty(); i++) {
      HarborRobot target = live.get(dice.nextInt(live.size()));
      boolean permissions = dice.nextBoolean();
      Preset preset = PRESETS[dice.nextInt(PRESETS.length)];
      String description =
          DESCRIPTIONS[dice.nextInt(DESCRIPTIONS.length)] + " " + nameCounter.get();
      attempt(
          permissions ? "update-permissions" : "update-description",
          () ->
              harness.edit(
                  target.getMetadata().getNamespace(),
                  target.getMetadata().getName(),
                  r -> {
                    if (permissions) {
                      r.getSpec().setPreset(preset);
                    } else {
                      r.getSpec().setDescription(description);
                    }
                  }));
    }
    if (!live.isEmpty() && dice.nextInt(2) == 0) {
      HarborRobot target = live.get(dice.nextInt(live.size()));
      String value = "soak-" + System.nanoTime();
      attempt(
          "rotate",
          () ->
              harness.edit(
                  target.getMetadata().getNamespace(),
                  target.getMetadata().getName(),
                  r -> {
                    Map<String, String> annotations =
                        r.getMetadata().getAnnotations() == null
                            ? new HashMap<>()
                            : new HashMap<>(r.getMetadata().getAnnotations());
                    annotations.put(RotationPlan.ROTATE_ANNOTATION, value);
                    r.getMetadata().setAnnotations(annotations);
                  }));
    }
    attempt("collect", this::collectGarbage);
  }

  private void createOne() {
    String team = teams.get(dice.nextInt(teams.size()));
    String name = "soak-" + nameCounter.incrementAndGet();
    HarborRobot robot = OperatorHarness.pullRobot(team, name);
    robot.getSpec().setPreset(PRESETS[dice.nextInt(PRESETS.length)]);
    robot.getSpec().setDescription("soak robot " + name);
    harness.create(robot);
    ops.merge("create", 1L, Long::sum);
  }

  private void attempt(String op, Runnable action) {
    try {
      action.run();
      if (!op.equals("create") && !op.equals("collect")) {
        ops.merge(op, 1L, Long::sum);
      }
    } catch (RuntimeException e) {
      // e.g. the object was deleted in between: counted, not fatal
      ops.merge(op + "-failed", 1L, Long::sum);
    }
  }

  /** HarborRobots of the soak that are not being deleted. */
  private List<HarborRobot> liveRobots() {
    List<HarborRobot> live = new ArrayList<>();
    for (HarborRobot r : allRobots()) {
      if (r.getMetadata().getDeletionTimestamp() == null) {
        live.add(r);
      }
    }
    return live;
  }

  private List<HarborRobot> allRobots() {
    List<HarborRobot> all = new ArrayList<>();
    for (String team : teams) {
      all.addAll(harness.client().resources(HarborRobot.class).inNamespace(team).list().getItems());
    }
    return all;
  }

  /**
   * What a real API server does and the in-memory one does not: Secrets owned by a HarborRobot that
   * is gone are deleted (ownerReference garbage collection), Events about objects that are gone are
   * dropped (in place of the Event TTL), and requests served are forgotten (the mock server keeps
   * each one, with its body, for {@code takeRequest()}).
   */
  private void collectGarbage() {
    // the mock server records every request it serves until they are taken: drop the record
    harness.apiServer().takeRequests();
    Set<String> uids = new HashSet<>();
    for (HarborRobot r : allRobots()) {
      uids.add(r.getMetadata().getUid());
    }
    for (String team : teams) {
      for (Secret s : harness.client().secrets().inNamespace(team).list().getItems()) {
        List<OwnerReference> owners = s.getMetadata().getOwnerReferences();
        if (owners != null
            && !owners.isEmpty()
            && owners.stream()
                .filter(o -> "HarborRobot".equals(o.getKind()))
                .noneMatch(o -> uids.contains(o.getUid()))
            && owners.stream().anyMatch(o -> "HarborRobot".equals(o.getKind()))) {
          harness.client().secrets().resource(s).delete();
        }
      }
      for (Event e : harness.client().v1().events().inNamespace(team).list().getItems()) {
        if ("HarborRobot".equals(e.getInvolvedObject().getKind())
            && !uids.contains(e.getInvolvedObject().getUid())) {
          harness.client().v1().events().resource(e).delete();
        }
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // measuring

  record Sample(
      String phase,
      long elapsedSeconds,
      long heapUsedMiB,
      long heapAfterGcMiB,
      long rssMiB,
      int threads,
      long requests,
      long requestsPerMinute,
      int ready,
      int total,
      int harborRobots,
      int secrets,
      int events,
      int lost,
      int duplicates,
      int orphans) {

    static final String CSV_HEADER =
        "phase,elapsed_s,heap_used_mib,heap_after_gc_mib,rss_mib,threads,harbor_requests,"
            + "harbor_requests_per_min,ready,total,harbor_robots,secrets,events,lost_secrets,"
            + "duplicates,orphans";
    static final String HEADER =
        String.format(
            "%-6s %7s %8s %8s %7s %7s %9s %7s %11s %7s %7s %6s %4s %4s %6s",
            "phase",
            "elapsed",
            "heapMiB",
            "afterGC",
            "rssMiB",
            "threads",
            "requests",
            "req/min",
            "ready/total",
            "harbor",
            "secrets",
            "events",
            "lost",
            "dups",
            "orphan");

    String line() {
      return String.format(
          "%-6s %7s %8d %8s %7d %7d %9d %7d %11s %7d %7d %6d %4d %4d %6d",
          phase,
          elapsedSeconds / 60 + "m" + String.format("%02d", elapsedSeconds % 60) + "s",
          heapUsedMiB,
          heapAfterGcMiB < 0 ? "-" : Long.toString(heapAfterGcMiB),
          rssMiB,
          threads,
          requests,
          requestsPerMinute,
          ready + "/" + total,
          harborRobots,
          secrets,
          events,
          lost,
          duplicates,
          orphans);
    }

    String csv() {
      return String.join(
          ",",
          phase,
          Long.toString(elapsedSeconds),
          Long.toString(heapUsedMiB),
          heapAfterGcMiB < 0 ? "" : Long.toString(heapAfterGcMiB),
          Long.toString(rssMiB),
          Integer.toString(threads),
          Long.toString(requests),
          Long.toString(requestsPerMinute),
          Integer.toString(ready),
          Integer.toString(total),
          Integer.toString(harborRobots),
          Integer.toString(secrets),
          Integer.toString(events),
          Integer.toString(lost),
          Integer.toString(duplicates),
          Integer.toString(orphans));
    }
  }

  private Sample takeSample(String phase) throws IOException, InterruptedException {
    long elapsed = Duration.between(started, Instant.now()).toSeconds();
    long heapAfterGc = -1;
    if (lastGcAt < 0 || elapsed - lastGcAt >= gcEvery.toSeconds() || phase.equals("final")) {
      System.gc();
      lastGcAt = elapsed;
      heapAfterGc = memory.getHeapMemoryUsage().getUsed() >> 20;
    }
    long heapUsed = memory.getHeapMemoryUsage().getUsed() >> 20;
    int requests = harness.harbor().requestCount();
    long now = System.nanoTime();
    double minutes = (now - lastSampleNanos) / 60e9;
    long perMinute = Math.round((requests - lastRequests) / Math.max(minutes, 1e-9));
    lastRequests = requests;
    lastSampleNanos = now;

    Check check = check();
    Sample s =
        new Sample(
            phase,
            elapsed,
            heapUsed,
            heapAfterGc,
            rssMiB(),
            threads.getThreadCount(),
            requests,
            perMinute,
            check.ready,
            check.total,
            check.harborRobots,
            check.secrets,
            check.events,
            check.lost,
            check.duplicates,
            check.orphans);
    samples.add(s);
    System.out.println(s.line());
    if (!check.lostNames.isEmpty()
        || !check.orphanNames.isEmpty()
        || !check.duplicateNames.isEmpty()) {
      System.out.println(
          "  lost="
              + check.lostNames
              + " orphans="
              + check.orphanNames
              + " duplicates="
              + check.duplicateNames);
    }
    Files.writeString(
        csv, s.csv() + "\n", StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
    return s;
  }

  private static long rssMiB() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) >> 10;
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return -1;
  }

  private static final class Check {
    int ready;
    int total;
    int harborRobots;
    int secrets;
    int events;
    int lost;
    int duplicates;
    int orphans;
    final List<String> lostNames = new ArrayList<>();
    final List<String> orphanNames = new ArrayList<>();
    final List<String> duplicateNames = new ArrayList<>();
    boolean converged;
  }

  /**
   * The consistency checks. A lost secret is a HarborRobot Ready (for its current generation) whose
   * Secret does not log in to the registry; as a Secret is legitimately behind Harbor for a moment
   * during a rotation, a robot counts only if it still fails 5 s later with the same
   * resourceVersion of its Secret. Logins are checked with {@link HarborEmulator#credentialsWork},
   * which answers as {@code GET /v2/} does but is not a request (no faults, not counted).
   */
  private Check check() throws InterruptedException {
    Check c = new Check();
    List<HarborRobot> all = allRobots();
    c.total = all.size();
    Map<String, String> suspects = new LinkedHashMap<>(); // ns/name -> secret resourceVersion
    Set<String> owned = new HashSet<>(); // project+name
    boolean allReady = true;
    for (HarborRobot r : all) {
      String ns = r.getMetadata().getNamespace();
      String robotName =
          r.getSpec().getRobotName() == null
              ? r.getMetadata().getName()
              : r.getSpec().getRobotName();
      owned.add(r.getSpec().getProject() + "+" + robotName);
      boolean current = readyNow(r);
      if (current && r.getMetadata().getDeletionTimestamp() == null) {
        c.ready++;
        String secretName = r.getStatus().getSecretName();
        Secret secret = secretName == null ? null : harness.secret(ns, secretName);
        if (!logsIn(secret)) {
          suspects.put(
              ns + "/" + r.getMetadata().getName(),
              secret == null ? "none" : secret.getMetadata().getResourceVersion());
        }
      } else {
        allReady = false;
      }
    }
    if (!suspects.isEmpty()) {
      Thread.sleep(5_000);
      for (Map.Entry<String, String> e : suspects.entrySet()) {
        String[] key = e.getKey().split("/", 2);
        HarborRobot r = harness.get(key[0], key[1]);
        if (r == null || !readyNow(r) || r.getMetadata().getDeletionTimestamp() != null) {
          continue;
        }
        Secret secret =
            r.getStatus().getSecretName() == null
                ? null
                : harness.secret(key[0], r.getStatus().getSecretName());
        String version = secret == null ? "none" : secret.getMetadata().getResourceVersion();
        if (version.equals(e.getValue()) && !logsIn(secret)) {
          c.lost++;
          c.lostNames.add(e.getKey());
        }
      }
    }
    Map<String, Integer> perName = new HashMap<>();
    for (EmulatedRobot robot : harness.harbor().robots()) {
      if (robot.project() == null || !teams.contains(robot.project())) {
        continue;
      }
      c.harborRobots++;
      perName.merge(robot.storedName(), 1, Integer::sum);
      if (!owned.contains(robot.storedName())) {
        c.orphans++;
        c.orphanNames.add(robot.storedName() + "#" + robot.id());
      }
    }
    perName.forEach(
        (name, n) -> {
          if (n > 1) {
            c.duplicates += n - 1;
            c.duplicateNames.add(name + "x" + n);
          }
        });
    for (String team : teams) {
      c.secrets +=
          (int)
              harness.client().secrets().inNamespace(team).list().getItems().stream()
                  .filter(s -> "kubernetes.io/dockerconfigjson".equals(s.getType()))
                  .count();
      c.events += harness.client().v1().events().inNamespace(team).list().getItems().size();
    }
    c.converged =
        allReady
            && c.total == c.ready
            && c.lost == 0
            && c.orphans == 0
            && c.duplicates == 0
            && c.harborRobots == c.total
            && c.secrets == c.total;
    return c;
  }

  private static boolean readyNow(HarborRobot r) {
    return OperatorHarness.ready(r)
        .filter(c -> "True".equals(c.getStatus()))
        .filter(c -> r.getMetadata().getGeneration().equals(c.getObservedGeneration()))
        .isPresent();
  }

  private boolean logsIn(Secret secret) {
    if (secret == null || secret.getData() == null) {
      return false;
    }
    String encoded = secret.getData().get(".dockerconfigjson");
    if (encoded == null) {
      return false;
    }
    try {
      JsonNode entry =
          JSON.readTree(Base64.getDecoder().decode(encoded))
              .path("auths")
              .path(harness.harbor().registryHost());
      String auth =
          new String(
              Base64.getDecoder().decode(entry.path("auth").asText("")), StandardCharsets.UTF_8);
      int colon = auth.indexOf(':');
      return colon > 0
          && harness.harbor().credentialsWork(auth.substring(0, colon), auth.substring(colon + 1));
    } catch (IOException | IllegalArgumentException e) {
      return false;
    }
  }

  private boolean awaitConvergence() throws InterruptedException {
    long deadline = System.nanoTime() + settle.toNanos();
    while (System.nanoTime() < deadline) {
      collectGarbage();
      if (check().converged) {
        return true;
      }
      Thread.sleep(2_000);
    }
    return false;
  }

  // -------------------------------------------------------------------------------------------
  // summary

  private int summary(boolean converged) {
    Sample last = samples.get(samples.size() - 1);
    long warm = warmup.toSeconds();
    List<Sample> gcSamples = new ArrayList<>();
    List<Sample> after = new ArrayList<>();
    for (Sample s : samples) {
      if (s.elapsedSeconds() >= warm && s.phase().equals("churn")) {
        after.add(s);
        if (s.heapAfterGcMiB() >= 0) {
          gcSamples.add(s);
        }
      }
    }
    System.out.println();
    System.out.println("soak summary");
    System.out.printf("  churn: %s, operations %s%n", duration, ops);
    System.out.printf(
        "  harbor requests: %d in total; %s per minute after warm-up (mean)%n",
        last.requests(),
        after.isEmpty()
            ? "-"
            : Math.round(after.stream().mapToLong(Sample::requestsPerMinute).average().orElse(0)));
    if (!gcSamples.isEmpty()) {
      System.out.printf(
          "  heap after GC after warm-up (%d samples): first %d MiB, last %d MiB, min %d, max %d,"
              + " slope %.1f MiB/hour%n",
          gcSamples.size(),
          gcSamples.get(0).heapAfterGcMiB(),
          gcSamples.get(gcSamples.size() - 1).heapAfterGcMiB(),
          gcSamples.stream().mapToLong(Sample::heapAfterGcMiB).min().orElse(0),
          gcSamples.stream().mapToLong(Sample::heapAfterGcMiB).max().orElse(0),
          slopePerHour(gcSamples, Sample::heapAfterGcMiB));
    }
    if (!after.isEmpty()) {
      System.out.printf(
          "  RSS after warm-up: first %d MiB, last %d MiB, max %d, slope %.1f MiB/hour%n",
          after.get(0).rssMiB(),
          after.get(after.size() - 1).rssMiB(),
          after.stream().mapToLong(Sample::rssMiB).max().orElse(0),
          slopePerHour(after, Sample::rssMiB));
      System.out.printf(
          "  threads after warm-up: first %d, last %d, min %d, max %d, slope %.1f/hour;"
              + " JVM peak %d%n",
          after.get(0).threads(),
          after.get(after.size() - 1).threads(),
          after.stream().mapToInt(Sample::threads).min().orElse(0),
          after.stream().mapToInt(Sample::threads).max().orElse(0),
          slopePerHour(after, Sample::threads),
          threads.getPeakThreadCount());
      System.out.printf(
          "  during churn (samples after warm-up): max lost secrets %d, max duplicates %d,"
              + " max orphans %d%n",
          after.stream().mapToInt(Sample::lost).max().orElse(0),
          after.stream().mapToInt(Sample::duplicates).max().orElse(0),
          after.stream().mapToInt(Sample::orphans).max().orElse(0));
    }
    System.out.printf(
        "  during churn (all samples): max lost secrets %d, max duplicates %d, max orphans %d%n",
        samples.stream().mapToInt(Sample::lost).max().orElse(0),
        samples.stream().mapToInt(Sample::duplicates).max().orElse(0),
        samples.stream().mapToInt(Sample::orphans).max().orElse(0));
    boolean clean = converged && last.lost() == 0 && last.duplicates() == 0 && last.orphans() == 0;
    System.out.printf(
        "  end state (faults off): converged=%s ready %d/%d, harbor robots %d, secrets %d,"
            + " lost secrets %d, duplicates %d, orphans %d -> %s%n",
        converged,
        last.ready(),
        last.total(),
        last.harborRobots(),
        last.secrets(),
        last.lost(),
        last.duplicates(),
        last.orphans(),
        clean ? "OK" : "NOT OK");
    return clean ? 0 : 1;
  }

  /** Least-squares slope of {@code value} over elapsed time, per hour. */
  private static double slopePerHour(
      List<Sample> points, java.util.function.ToDoubleFunction<Sample> value) {
    int n = points.size();
    if (n < 2) {
      return 0;
    }
    double mx = 0;
    double my = 0;
    for (Sample p : points) {
      mx += p.elapsedSeconds();
      my += value.applyAsDouble(p);
    }
    mx /= n;
    my /= n;
    double num = 0;
    double den = 0;
    for (Sample p : points) {
      double dx = p.elapsedSeconds() - mx;
      num += dx * (value.applyAsDouble(p) - my);
      den += dx * dx;
    }
    return den == 0 ? 0 : num / den * 3600;
  }
}
