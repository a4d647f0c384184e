package io.harborrobot.operator.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * What to measure, as the {@code bench} command's options give it.
 *
 * @param scenarios which scenarios run
 * @param robots HarborRobots applied at once in the cold-start and steady-state scenarios, one run
 *     per value
 * @param latencies Harbor's latency per request, one run of every scenario but memory per value
 * @param maxConcurrentRequests the connection's {@code maxConcurrentRequests}
 * @param requestsPerSecond the connection's {@code requestsPerSecond}
 * @param robotsPerProject HarborRobots per namespace (and Harbor project of the same name)
 * @param resyncPeriod the operator's resync period in the steady-state scenario; null: long enough
 *     for one request per robot, and at least 30 s
 * @param latencySamples robots applied one after the other in the latency scenario
 * @param latencyWarmup robots applied first and not counted (the operator's JIT warms up)
 * @param memoryRobots HarborRobots in the cluster in the memory scenario
 * @param memoryUnrelatedSecrets Secrets of other applications in the cluster in the memory scenario
 * @param memoryLatency Harbor's latency in the memory scenario
 * @param startupRuns operator starts in the start-up scenario
 * @param startupRobots HarborRobots in the cluster in the start-up scenario
 * @param operatorMemoryLimit the container memory limit the operator's JVM is sized for, in bytes;
 *     0 for none (the JVM sizes itself from the machine)
 * @param operatorJvmOptions more JVM options for the operator
 * @param readyTimeout how long to wait for robots to become Ready before giving up a run
 * @param json where to write the results as JSON; null for nowhere
 * @param workDir where the kubeconfig and the operator's logs go
 * @param commandLine the command line, recorded with the results
 */
record BenchOptions(
    Set<Scenario> scenarios,
    List<Integer> robots,
    List<Duration> latencies,
    int maxConcurrentRequests,
    int requestsPerSecond,
    int robotsPerProject,
    Duration resyncPeriod,
    int latencySamples,
    int latencyWarmup,
    int memoryRobots,
    int memoryUnrelatedSecrets,
    Duration memoryLatency,
    int startupRuns,
    int startupRobots,
    long operatorMemoryLimit,
    List<String> operatorJvmOptions,
    Duration readyTimeout,
    Path json,
    Path workDir,
    String commandLine) {

  enum Scenario {
    cold,
    steady,
    latency,
    memory,
    startup
  }

  BenchOptions {
    scenarios = Set.copyOf(scenarios);
    robots = List.copyOf(robots);
    latencies = List.copyOf(latencies);
    operatorJvmOptions = List.copyOf(operatorJvmOptions);
  }

  boolean runs(Scenario scenario) {
    return scenarios.contains(scenario);
  }
}
