package io.harborrobot.operator.bench;

import io.harborrobot.operator.Main;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The operator as production runs it: {@code Main run} in a JVM of its own, with the image's JVM
 * flags, against the benchmark's API server (through a kubeconfig) and Harbor emulator (through the
 * ClusterHarborConnection's URL). Its memory and threads are its own, read from {@code /proc}; its
 * heap after a full GC through {@code jcmd}; its reconciles from its {@code /metrics}.
 */
final class OperatorProcess implements AutoCloseable {

  /**
   * The image's JVM flags (Dockerfile ENTRYPOINT, and the Jib profile of the pom): the heap is 75 %
   * of the memory the JVM sees, an OutOfMemoryError ends the process, no hsperfdata file, the C1
   * compiler only.
   */
  static final List<String> IMAGE_JVM_FLAGS =
      List.of(
          "-XX:MaxRAMPercentage=75",
          "-XX:+ExitOnOutOfMemoryError",
          "-XX:-UsePerfData",
          "-XX:TieredStopAtLevel=1");

  /**
   * Below this much memory the JVM does not consider itself on a "server-class machine" and picks
   * the Serial collector rather than G1; in a container, the memory it sees is the limit.
   */
  static final long SERVER_CLASS_MEMORY = 1792L << 20;

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /** Operators still running, stopped when the bench is (Ctrl-C, kill) so none is left behind. */
  private static final java.util.Set<Process> RUNNING =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(() -> RUNNING.forEach(Process::destroyForcibly), "bench-operator-stop"));
  }

  private final Process process;
  private final long startedNanos;
  private final int metricsPort;
  private final Path log;
  private final List<String> jvmFlags;

  private OperatorProcess(
      Process process, long startedNanos, int metricsPort, Path log, List<String> jvmFlags) {
    this.process = process;
    this.startedNanos = startedNanos;
    this.metricsPort = metricsPort;
    this.log = log;
    this.jvmFlags = jvmFlags;
  }

  /** What the operator is started with. */
  record Settings(
      Duration resyncPeriod,
      Duration credentialCheckPeriod,
      Duration connectionCheckPeriod,
      long memoryLimitBytes,
      List<String> extraJvmOptions) {}

  /**
   * The JVM flags for a container with {@code memoryLimitBytes} (0: none, the JVM sizes itself from
   * the machine): the image's flags, the memory the JVM would see in the container, and the
   * collector it would pick there.
   */
  static List<String> jvmFlags(long memoryLimitBytes, List<String> extra) {
    List<String> flags = new ArrayList<>(IMAGE_JVM_FLAGS);
    if (memoryLimitBytes > 0) {
      flags.add("-XX:MaxRAM=" + memoryLimitBytes);
      flags.add(memoryLimitBytes < SERVER_CLASS_MEMORY ? "-XX:+UseSerialGC" : "-XX:+UseG1GC");
    }
    flags.addAll(extra);
    return flags;
  }

  static OperatorProcess start(Path kubeconfig, Path log, Settings settings) {
    int port = freePort();
    List<String> flags = jvmFlags(settings.memoryLimitBytes(), settings.extraJvmOptions());
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(flags);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Main.class.getName());
    command.add("run");
    command.add("--leader-election=false");
    command.add("--metrics-port=" + port);
    command.add("--resync-period=" + settings.resyncPeriod());
    command.add("--credential-check-period=" + settings.credentialCheckPeriod());
    command.add("--connection-check-period=" + settings.connectionCheckPeriod());
    command.add("--log-format=plain");
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    Map<String, String> env = builder.environment();
    env.put("KUBECONFIG", kubeconfig.toString());
    // nothing of the bench's own environment may change what the operator does
    List.of(
            "WATCH_NAMESPACES",
            "ROBOT_SELECTOR",
            "LEADER_ELECTION",
            "KUBERNETES_SERVICE_HOST",
            "KUBERNETES_SERVICE_PORT",
            "JAVA_TOOL_OPTIONS",
            "JDK_JAVA_OPTIONS")
        .forEach(env::remove);
    long started = System.nanoTime();
    try {
      Process process = builder.start();
      RUNNING.add(process);
      process.getOutputStream().close();
      return new OperatorProcess(process, started, port, log, flags);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the operator process", e);
    }
  }

  long pid() {
    return process.pid();
  }

  Path log() {
    return log;
  }

  List<String> jvmFlags() {
    return jvmFlags;
  }

  boolean alive() {
    return process.isAlive();
  }

  /** Time since the process was spawned. */
  Duration uptime() {
    return Duration.ofNanos(System.nanoTime() - startedNanos);
  }

  long startedNanos() {
    return startedNanos;
  }

  /** Whether {@code /readyz} answers 200: started, every informer synced and watching. */
  boolean ready() {
    return get("/readyz").map(r -> r.statusCode() == 200).orElse(false);
  }

  /** The operator's metrics, or empty while its HTTP endpoint is not up. */
  Optional<PrometheusText> metrics() {
    return get("/metrics")
        .filter(r -> r.statusCode() == 200)
        .map(r -> new PrometheusText(r.body()));
  }

  /** HarborRobot reconciles started so far (JOSDK's counter; 0 before the first). */
  double robotReconcilesStarted() {
    return metrics()
        .map(m -> m.sum("operator_sdk_reconciliations_started_total", "kind", "HarborRobot"))
        .orElse(0.0);
  }

  /** HarborRobot reconciles that ended successfully so far. */
  double robotReconcilesSucceeded() {
    return metrics()
        .map(m -> m.sum("operator_sdk_reconciliations_success_total", "kind", "HarborRobot"))
        .orElse(0.0);
  }

  private Optional<HttpResponse<String>> get(String path) {
    try {
      return Optional.of(
          HTTP.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + path))
                  .timeout(Duration.ofSeconds(30))
                  .GET()
                  .build(),
              HttpResponse.BodyHandlers.ofString()));
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  /** CPU time the operator's process used so far (user and system), in seconds; -1 if unknown. */
  double cpuSeconds() {
    return cpuSeconds(process.toHandle());
  }

  static double cpuSeconds(ProcessHandle handle) {
    return handle.info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(-1.0);
  }

  /** Resident memory, its peak and the thread count, from {@code /proc/<pid>/status}. */
  record ProcStatus(long rssBytes, long peakRssBytes, int threads) {}

  ProcStatus procStatus() {
    try {
      long rss = -1;
      long hwm = -1;
      int threads = -1;
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
        if (line.startsWith("VmRSS:")) {
          rss = kilobytes(line) << 10;
        } else if (line.startsWith("VmHWM:")) {
          hwm = kilobytes(line) << 10;
        } else if (line.startsWith("Threads:")) {
          threads = (int) kilobytes(line);
        }
      }
      return new ProcStatus(rss, hwm, threads);
    } catch (IOException | RuntimeException e) {
      return new ProcStatus(-1, -1, -1);
    }
  }

  private static long kilobytes(String line) {
    return Long.parseLong(line.replaceAll("[^0-9]", ""));
  }

  /**
   * The heap in use right after a full collection, how it was read, and (from jcmd) the heap and
   * the metaspace the JVM had committed then (-1 when unknown).
   */
  record HeapAfterGc(long bytes, String method, long committedBytes, long metaspaceBytes) {}

  /**
   * Asks the operator's JVM for a full GC ({@code jcmd <pid> GC.run}) and reads the heap in use
   * right after ({@code GC.heap_info}); without jcmd, the {@code jvm_gc_live_data_size_bytes} the
   * operator reports (the old generation after its last major collection).
   */
  HeapAfterGc heapAfterGc() {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    if (Files.isExecutable(jcmd)) {
      Optional<String> ran = run(jcmd.toString(), Long.toString(pid()), "GC.run");
      Optional<String> info = run(jcmd.toString(), Long.toString(pid()), "GC.heap_info");
      if (ran.isPresent() && info.isPresent()) {
        long used = heapUsed(info.get());
        if (used >= 0) {
          return new HeapAfterGc(
              used,
              "jcmd GC.run, GC.heap_info",
              heapCommitted(info.get()),
              metaspaceCommitted(info.get()));
        }
      }
    }
    double live = metrics().map(m -> m.sum("jvm_gc_live_data_size_bytes", null, null)).orElse(-1.0);
    return new HeapAfterGc((long) live, "jvm_gc_live_data_size_bytes (no jcmd)", -1, -1);
  }

  /** The collector the operator's JVM runs with, from {@code jcmd VM.flags}; null if unknown. */
  String collector() {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    if (!Files.isExecutable(jcmd)) {
      return null;
    }
    return run(jcmd.toString(), Long.toString(pid()), "VM.flags")
        .map(
            flags -> {
              Matcher m = Pattern.compile("-XX:\\+Use(\\w+)GC").matcher(flags);
              return m.find() ? m.group(1) : null;
            })
        .orElse(null);
  }

  /**
   * The operator's threads by name with the numbers taken out ({@code jcmd Thread.print}), most
   * numerous first: which pools the threads belong to. Empty without jcmd.
   */
  Map<String, Integer> threadGroups() {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    if (!Files.isExecutable(jcmd)) {
      return Map.of();
    }
    return run(jcmd.toString(), Long.toString(pid()), "Thread.print")
        .map(OperatorProcess::threadGroups)
        .orElse(Map.of());
  }

  static Map<String, Integer> threadGroups(String threadDump) {
    Map<String, Integer> counts = new java.util.HashMap<>();
    for (String line : threadDump.split("\n")) {
      if (line.startsWith("\"")) {
        String name = line.substring(1, Math.max(1, line.indexOf('"', 1)));
        counts.merge(name.replaceAll("\\d+", "#"), 1, Integer::sum);
      }
    }
    Map<String, Integer> sorted = new java.util.LinkedHashMap<>();
    counts.entrySet().stream()
        .sorted(
            Map.Entry.<String, Integer>comparingByValue()
                .reversed()
                .thenComparing(Map.Entry.comparingByKey()))
        .forEach(e -> sorted.put(e.getKey(), e.getValue()));
    return sorted;
  }

  /** The largest heap the operator's JVM may use, from its metrics; -1 if unknown. */
  long maxHeapBytes() {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    if (!Files.isExecutable(jcmd)) {
      return -1;
    }
    return run(jcmd.toString(), Long.toString(pid()), "VM.flags")
        .map(
            flags -> {
              Matcher m = Pattern.compile("-XX:MaxHeapSize=(\\d+)").matcher(flags);
              return m.find() ? Long.parseLong(m.group(1)) : -1L;
            })
        .orElse(-1L);
  }

  private static final Pattern GENERATION =
      Pattern.compile("^\\s*(?!Metaspace|class space)[\\w -]+?\\s+total (\\d+)K, used (\\d+)K");

  private static final Pattern METASPACE =
      Pattern.compile("^\\s*Metaspace\\s+used \\d+K, committed (\\d+)K");

  /**
   * The heap in use in {@code jcmd GC.heap_info} output: the sum of the generations' "used"
   * (Serial, Parallel: young and old; G1: one line for the whole heap), without Metaspace.
   */
  static long heapUsed(String heapInfo) {
    return sumOf(heapInfo, GENERATION, 2);
  }

  /** The heap the JVM had committed, from the same output: the generations' "total". */
  static long heapCommitted(String heapInfo) {
    return sumOf(heapInfo, GENERATION, 1);
  }

  /** The metaspace the JVM had committed, from the same output. */
  static long metaspaceCommitted(String heapInfo) {
    return sumOf(heapInfo, METASPACE, 1);
  }

  private static long sumOf(String text, Pattern pattern, int group) {
    long sum = 0;
    boolean found = false;
    for (String line : text.split("\n")) {
      Matcher m = pattern.matcher(line);
      if (m.find()) {
        sum += Long.parseLong(m.group(group)) << 10;
        found = true;
      }
    }
    return found ? sum : -1;
  }

  private static Optional<String> run(String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        return Optional.empty();
      }
      return Optional.of(new String(out, StandardCharsets.UTF_8));
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Stops the operator as Kubernetes does (SIGTERM, then SIGKILL after a grace period). */
  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    } finally {
      RUNNING.remove(process);
    }
  }

  /** Prometheus' text format, enough of it to add up a metric's samples. */
  static final class PrometheusText {

    private final String text;

    PrometheusText(String text) {
      this.text = text;
    }

    /**
     * The sum of every sample of {@code metric}, or of those whose label {@code label} has {@code
     * value} when a label is given.
     */
    double sum(String metric, String label, String value) {
      double sum = 0;
      for (String line : text.split("\n")) {
        if (line.startsWith("#") || !line.startsWith(metric)) {
          continue;
        }
        String rest = line.substring(metric.length());
        if (!(rest.startsWith("{") || rest.startsWith(" "))) {
          continue; // another metric with this one's name as prefix
        }
        if (label != null && !rest.contains(label + "=\"" + value + "\"")) {
          continue;
        }
        String[] fields = line.trim().split("\\s+");
        try {
          sum += Double.parseDouble(fields[fields.length - 1]);
        } catch (NumberFormatException e) {
          // a timestamp-less sample is "name{labels} value"; anything else is not ours
        }
      }
      return sum;
    }
  }
}
