package io.harborrobot.operator.bench;

import ch.qos.logback.classic.Level;
import io.harborrobot.operator.bench.BenchOptions.Scenario;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code bench} command: measures the operator (docs/performance.md). */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Measure the operator against an in-memory Kubernetes API and a Harbor emulator with a"
          + " fixed latency per request: cold start, steady-state resyncs and credential checks,"
          + " single-robot latency, memory and threads with a large cluster, and start-up time."
          + " The operator runs as a process of its own with the image's JVM flags. Results are"
          + " printed as tables and written as JSON; docs/performance.md explains every figure."
    })
public final class BenchCommand implements Callable<Integer> {

  @Option(
      names = "--scenarios",
      split = ",",
      defaultValue = "cold,steady,latency,memory,startup",
      description = "Which to run, comma-separated: ${COMPLETION-CANDIDATES} (default: all).")
  List<Scenario> scenarios;

  @Option(
      names = "--robots",
      split = ",",
      defaultValue = "100,1000",
      description =
          "HarborRobots applied at once for cold start and steady state, one run per value"
              + " (default: ${DEFAULT-VALUE}).")
  List<Integer> robots;

  @Option(
      names = "--latency",
      split = ",",
      defaultValue = "20ms",
      description =
          "Harbor's latency per request, one run per value, e.g. 0ms,20ms,50ms (default:"
              + " ${DEFAULT-VALUE}).")
  List<Duration> latencies;

  @Option(
      names = "--max-concurrent",
      defaultValue = "8",
      description =
          "The connection's maxConcurrentRequests, 1 to 64 (default: ${DEFAULT-VALUE}). The"
              + " emulator serves at most 16 requests at a time.")
  int maxConcurrent;

  @Option(
      names = "--requests-per-second",
      defaultValue = "1000",
      description =
          "The connection's requestsPerSecond, 1 to 1000 (default: ${DEFAULT-VALUE}, the most"
              + " the CRD allows, so that the concurrency cap is the limit).")
  int requestsPerSecond;

  @Option(
      names = "--robots-per-project",
      defaultValue = "100",
      description = "HarborRobots per namespace and Harbor project (default: ${DEFAULT-VALUE}).")
  int robotsPerProject;

  @Option(
      names = "--resync-period",
      defaultValue = "auto",
      description =
          "The operator's resync period in the steady-state scenario (default: auto, 3 x robots"
              + " x latency / max-concurrent and at least 30s).")
  String resyncPeriod;

  @Option(
      names = "--latency-samples",
      defaultValue = "100",
      description =
          "Robots applied one at a time in the latency scenario (default: ${DEFAULT-VALUE}).")
  int latencySamples;

  @Option(
      names = "--latency-warmup",
      defaultValue = "5",
      description =
          "Robots applied first and not counted in the latency scenario (default:"
              + " ${DEFAULT-VALUE}).")
  int latencyWarmup;

  @Option(
      names = "--memory-robots",
      defaultValue = "10000",
      description =
          "HarborRobots in the cluster for the memory scenario (default: ${DEFAULT-VALUE}).")
  int memoryRobots;

  @Option(
      names = "--memory-unrelated-secrets",
      defaultValue = "50000",
      description =
          "Secrets of other applications in the cluster for the memory scenario (default:"
              + " ${DEFAULT-VALUE}).")
  int memoryUnrelatedSecrets;

  @Option(
      names = "--memory-latency",
      defaultValue = "0ms",
      description =
          "Harbor's latency in the memory scenario, whose operator has to create every robot"
              + " first (default: ${DEFAULT-VALUE}).")
  Duration memoryLatency;

  @Option(
      names = "--startup-runs",
      defaultValue = "3",
      description = "Operator starts in the start-up scenario (default: ${DEFAULT-VALUE}).")
  int startupRuns;

  @Option(
      names = "--startup-robots",
      defaultValue = "1",
      description =
          "HarborRobots in the cluster in the start-up scenario (default: ${DEFAULT-VALUE}).")
  int startupRobots;

  @Option(
      names = "--operator-memory-limit",
      defaultValue = "512Mi",
      description =
          "The container memory limit the operator's JVM is sized for, like the Deployment's"
              + " (default: ${DEFAULT-VALUE}; none: the JVM sizes itself from this machine).")
  String operatorMemoryLimit;

  @Option(
      names = "--operator-jvm-option",
      description = "One more JVM option for the operator; repeatable.")
  List<String> operatorJvmOptions = new ArrayList<>();

  @Option(
      names = "--ready-timeout",
      defaultValue = "30m",
      description =
          "How long to wait for the robots of a run to become Ready before giving up the run"
              + " (default: ${DEFAULT-VALUE}).")
  Duration readyTimeout;

  @Option(names = "--json", description = "Write the results as JSON to this file.")
  Path json;

  @Option(
      names = "--work-dir",
      description =
          "Where the kubeconfig and the operator's logs go (default: a new temporary folder).")
  Path workDir;

  @Option(names = "--verbose", description = "Show the log of the bench's own components.")
  boolean verbose;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    BenchOptions options = options();
    ch.qos.logback.classic.Logger root =
        (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    Level level = root.getLevel();
    if (!verbose) {
      root.setLevel(Level.WARN);
    }
    try {
      return new Bench(options, System.out).run();
    } finally {
      root.setLevel(level);
    }
  }

  BenchOptions options() throws java.io.IOException {
    if (maxConcurrent < 1 || maxConcurrent > 64) {
      throw bad("--max-concurrent must be from 1 to 64 (the CRD's range)");
    }
    if (requestsPerSecond < 1 || requestsPerSecond > 1000) {
      throw bad("--requests-per-second must be from 1 to 1000 (the CRD's range)");
    }
    if (robots.stream().anyMatch(n -> n < 1)
        || robotsPerProject < 1
        || latencySamples < 1
        || latencyWarmup < 0
        || memoryRobots < 1
        || memoryUnrelatedSecrets < 0
        || startupRuns < 1
        || startupRobots < 1) {
      throw bad("sizes must be positive");
    }
    if (latencies.stream().anyMatch(Duration::isNegative) || memoryLatency.isNegative()) {
      throw bad("latencies must not be negative");
    }
    Duration resync =
        resyncPeriod.equalsIgnoreCase("auto")
            ? null
            : io.harborrobot.operator.config.Durations.parse(resyncPeriod);
    Path dir = workDir != null ? workDir : Files.createTempDirectory("harbor-robot-bench-");
    Files.createDirectories(dir);
    return new BenchOptions(
        scenarios.isEmpty() ? EnumSet.allOf(Scenario.class) : EnumSet.copyOf(scenarios),
        robots,
        latencies,
        maxConcurrent,
        requestsPerSecond,
        robotsPerProject,
        resync,
        latencySamples,
        latencyWarmup,
        memoryRobots,
        memoryUnrelatedSecrets,
        memoryLatency,
        startupRuns,
        startupRobots,
        memoryLimit(),
        operatorJvmOptions,
        readyTimeout,
        json,
        dir,
        String.join(" ", spec.commandLine().getParseResult().originalArgs()));
  }

  private long memoryLimit() {
    try {
      return parseBytes(operatorMemoryLimit);
    } catch (NumberFormatException e) {
      throw bad("--operator-memory-limit: not an amount of memory: " + operatorMemoryLimit);
    }
  }

  private CommandLine.ParameterException bad(String message) {
    return new CommandLine.ParameterException(spec.commandLine(), message);
  }

  /** 512Mi, 1Gi, 800M, 1073741824; none or 0 for no limit. */
  static long parseBytes(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.equals("none") || t.equals("0")) {
      return 0;
    }
    String[][] units = {
      {"ki", "1024"}, {"mi", "1048576"}, {"gi", "1073741824"},
      {"k", "1000"}, {"m", "1000000"}, {"g", "1000000000"}
    };
    for (String[] unit : units) {
      if (t.endsWith(unit[0])) {
        return Long.parseLong(t.substring(0, t.length() - unit[0].length()).trim())
            * Long.parseLong(unit[1]);
      }
    }
    return Long.parseLong(t);
  }
}
