package io.harborrobot.operator.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.harborrobot.operator.Main;
import io.harborrobot.operator.bench.BenchOptions.Scenario;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The results of a bench run: one JSON object per scenario and parameters, with the machine, the
 * operator's JVM flags and the targets; printed as tables, written as JSON.
 */
final class Report {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  // the targets of issue 10 (docs/performance.md), for 2 cores, 20 ms and 8 requests in flight
  static final int TARGET_ROBOTS = 1000;
  static final long TARGET_LATENCY_MS = 20;
  static final int TARGET_CONCURRENCY = 8;
  static final double TARGET_COLD_RATIO = 1.5;
  static final double TARGET_RESYNC_REQUESTS = 0.05;
  static final int TARGET_MEMORY_ROBOTS = 10_000;
  static final long TARGET_RSS_MIB = 512;
  static final double TARGET_STARTUP_SECONDS = 5;

  private final BenchOptions options;
  private final ObjectNode root = JsonNodeFactory.instance.objectNode();
  private final ArrayNode results;
  private final ArrayNode failures;

  Report(BenchOptions options) {
    this.options = options;
    root.put("tool", "harbor-robot-operator bench");
    String version = Main.class.getPackage().getImplementationVersion();
    root.put("version", version == null ? "dev" : version);
    root.put("command", options.commandLine());
    root.put("startedAt", Instant.now().toString());
    root.set("machine", machine());
    ObjectNode harbor = root.putObject("harborConnection");
    harbor.put("maxConcurrentRequests", options.maxConcurrentRequests());
    harbor.put("requestsPerSecond", options.requestsPerSecond());
    harbor.put("robotsPerProject", options.robotsPerProject());
    ObjectNode minimal = root.putObject("minimalRequestsPerNewRobot");
    minimal.put("value", Bench.MINIMAL_REQUESTS_PER_ROBOT);
    ArrayNode requests = minimal.putArray("requests");
    Bench.MINIMAL_REQUESTS.forEach(requests::add);
    minimal.put(
        "lowerBound", "robots x minimalRequestsPerNewRobot x latency / maxConcurrentRequests");
    results = root.putArray("results");
    failures = root.putArray("failures");
  }

  /** A new result of {@code scenario} with the parameters every result carries. */
  ObjectNode result(Scenario scenario, Duration latency) {
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    node.put("scenario", scenario.name());
    node.put("latencyMs", latency.toMillis());
    node.put("maxConcurrentRequests", options.maxConcurrentRequests());
    return node;
  }

  void add(ObjectNode result) {
    results.add(result);
  }

  void failure(String what, Exception e) {
    ObjectNode node = failures.addObject();
    node.put("part", what);
    node.put("error", e.toString());
  }

  void operatorJvm(List<String> flags) {
    ObjectNode operator =
        root.has("operator") ? (ObjectNode) root.get("operator") : root.putObject("operator");
    operator.put("command", "java <flags> -cp <this jar> " + Main.class.getName() + " run");
    ArrayNode array = operator.putArray("jvmFlags");
    flags.forEach(array::add);
  }

  ObjectNode json() {
    root.put("finishedAt", Instant.now().toString());
    root.set("targets", targets());
    return root;
  }

  void writeJson(Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    JSON.writeValue(file.toFile(), json());
  }

  // ---------------------------------------------------------------------------------------------
  // the targets

  ArrayNode targets() {
    ArrayNode targets = JsonNodeFactory.instance.arrayNode();
    String cores = "on " + Runtime.getRuntime().availableProcessors() + " cores (target: 2)";
    for (JsonNode r : of(Scenario.cold)) {
      if (r.path("robots").asInt() == TARGET_ROBOTS
          && r.path("latencyMs").asLong() == TARGET_LATENCY_MS
          && r.path("maxConcurrentRequests").asInt() == TARGET_CONCURRENCY) {
        JsonNode ratio = r.path("ratioToLowerBound");
        target(
            targets,
            "cold start of 1,000 robots within 1.5 x the lower bound (20 ms, 8 in flight)",
            ratio.isNumber() ? format(ratio.asDouble(), 2) + " x" : "incomplete",
            ratio.isNumber() ? ratio.asDouble() <= TARGET_COLD_RATIO : null,
            cores);
      }
    }
    for (JsonNode r : of(Scenario.steady)) {
      JsonNode perRobot = r.path("harborRequestsPerRobotPerResync");
      target(
          targets,
          "steady-state resync: at most 0.05 Harbor requests per robot ("
              + r.path("robots").asInt()
              + " robots, "
              + r.path("latencyMs").asLong()
              + " ms)",
          format(perRobot.asDouble(), 3),
          perRobot.asDouble() <= TARGET_RESYNC_REQUESTS,
          null);
    }
    for (JsonNode r : of(Scenario.memory)) {
      if (r.path("robots").asInt() >= TARGET_MEMORY_ROBOTS) {
        JsonNode steady = r.path("steady");
        long peak = steady.path("peakRssMiB").asLong();
        boolean filtered = r.path("secretListsAndWatchesFiltered").asBoolean();
        target(
            targets,
            "memory with 10,000 robots under 512 MiB RSS, unrelated Secrets never cached",
            "peak RSS "
                + peak
                + " MiB, RSS "
                + steady.path("rssMiB").asLong()
                + " MiB, Secret lists/watches "
                + (filtered ? "all filtered by label" : "NOT all filtered"),
            r.path("allReady").asBoolean() ? peak < TARGET_RSS_MIB && filtered : null,
            null);
      }
    }
    for (JsonNode r : of(Scenario.startup)) {
      double first = r.path("firstReconcileSeconds").asDouble();
      target(
          targets,
          "start-up under 5 s to the first reconcile",
          format(first, 2) + " s (median of " + r.path("runs").size() + ")",
          first < TARGET_STARTUP_SECONDS,
          cores);
    }
    return targets;
  }

  private static void target(
      ArrayNode targets, String target, String measured, Boolean met, String note) {
    ObjectNode node = targets.addObject();
    node.put("target", target);
    node.put("measured", measured);
    if (met == null) {
      node.putNull("met");
    } else {
      node.put("met", met);
    }
    if (note != null) {
      node.put("note", note);
    }
  }

  private List<JsonNode> of(Scenario scenario) {
    List<JsonNode> found = new ArrayList<>();
    results.forEach(
        r -> {
          if (scenario.name().equals(r.path("scenario").asText())) {
            found.add(r);
          }
        });
    return found;
  }

  // ---------------------------------------------------------------------------------------------
  // tables

  void print(PrintStream out) {
    ObjectNode json = json();
    out.printf("%n=== Results (%s) ===%n", machineLine());
    out.printf(
        "Minimal Harbor requests per new robot: %d (%s); lower bound = robots x %d x latency /"
            + " maxConcurrentRequests%n",
        Bench.MINIMAL_REQUESTS_PER_ROBOT,
        String.join(", ", Bench.MINIMAL_REQUESTS),
        Bench.MINIMAL_REQUESTS_PER_ROBOT);
    printCold(out);
    printSteady(out);
    printLatency(out);
    printStartup(out);
    printMemory(out);
    List<List<String>> rows = new ArrayList<>();
    rows.add(List.of("TARGET", "MEASURED", "MET"));
    for (JsonNode t : json.path("targets")) {
      rows.add(
          List.of(
              t.path("target").asText(),
              t.path("measured").asText(),
              t.path("met").isNull() ? "n/a" : t.path("met").asBoolean() ? "yes" : "NO"));
    }
    if (rows.size() > 1) {
      out.printf("%nTargets%n%s", table(rows));
    }
    for (JsonNode f : failures) {
      out.printf("FAILED: %s: %s%n", f.path("part").asText(), f.path("error").asText());
    }
  }

  private void printCold(PrintStream out) {
    List<JsonNode> cold = of(Scenario.cold);
    if (cold.isEmpty()) {
      return;
    }
    List<List<String>> rows = new ArrayList<>();
    rows.add(
        List.of(
            "LATENCY",
            "ROBOTS",
            "READY",
            "SECONDS",
            "LOWER BOUND",
            "RATIO",
            "HARBOR REQ/ROBOT",
            "K8S REQ/ROBOT",
            "RECONCILES/ROBOT",
            "MAX IN FLIGHT",
            "OPERATOR CPU/ROBOT"));
    for (JsonNode r : cold) {
      rows.add(
          List.of(
              r.path("latencyMs").asText() + "ms",
              r.path("robots").asText(),
              r.path("ready").asText(),
              format(r.path("seconds").asDouble(), 1),
              format(r.path("lowerBoundSeconds").asDouble(), 1),
              r.path("ratioToLowerBound").isNumber()
                  ? format(r.path("ratioToLowerBound").asDouble(), 2)
                  : "-",
              format(r.path("harborRequestsPerRobot").asDouble(), 2),
              format(r.path("kubernetesRequestsPerRobot").asDouble(), 2),
              format(r.path("robotReconciles").asDouble() / r.path("robots").asDouble(), 2),
              r.path("harborMaxConcurrentRequests").asText(),
              format(r.path("operatorCpuMsPerRobot").asDouble(), 1) + " ms"));
    }
    out.printf("%nCold start: robots applied at once -> all Ready%n%s", table(rows));
    for (JsonNode r : cold) {
      out.printf(
          "  %sms/%s Harbor requests per robot: %s%n",
          r.path("latencyMs").asText(),
          r.path("robots").asText(),
          routes(r.path("harborRequestsPerRobotByRoute")));
    }
  }

  private void printSteady(PrintStream out) {
    List<JsonNode> steady = of(Scenario.steady);
    if (steady.isEmpty()) {
      return;
    }
    List<List<String>> rows = new ArrayList<>();
    rows.add(
        List.of(
            "LATENCY",
            "ROBOTS",
            "RESYNC",
            "REQ/ROBOT/RESYNC",
            "RECONCILES",
            "WITH CHECKS REQ/ROBOT/RESYNC",
            "LOGINS/RECONCILES",
            "REQ/VERIFICATION",
            "RESTART REQ/ROBOT",
            "RESTART S"));
    for (JsonNode r : steady) {
      JsonNode checks = r.path("withCredentialChecks");
      rows.add(
          List.of(
              r.path("latencyMs").asText() + "ms",
              r.path("robots").asText(),
              format(r.path("resyncPeriodSeconds").asDouble(), 0) + "s",
              format(r.path("harborRequestsPerRobotPerResync").asDouble(), 3),
              r.path("resync").path("reconciles").asText(),
              format(r.path("harborRequestsPerRobotPerResyncWithChecks").asDouble(), 3),
              checks.path("registryLogins").asText() + "/" + checks.path("reconciles").asText(),
              r.path("harborRequestsPerVerification").isNumber()
                  ? format(r.path("harborRequestsPerVerification").asDouble(), 2)
                  : "-",
              format(r.path("restart").path("harborRequestsPerRobot").asDouble(), 2),
              format(r.path("restart").path("seconds").asDouble(), 1)));
    }
    out.printf("%nSteady state: one resync period, without and with credential checks%n");
    out.print(table(rows));
    for (JsonNode r : steady) {
      out.printf(
          "  %sms/%s resync window: %s%n  %sms/%s window with checks: %s%n",
          r.path("latencyMs").asText(),
          r.path("robots").asText(),
          routes(r.path("resync").path("harborRequestsByRoute")),
          r.path("latencyMs").asText(),
          r.path("robots").asText(),
          routes(r.path("withCredentialChecks").path("harborRequestsByRoute")));
    }
  }

  private void printLatency(PrintStream out) {
    List<JsonNode> latency = of(Scenario.latency);
    if (latency.isEmpty()) {
      return;
    }
    List<List<String>> rows = new ArrayList<>();
    rows.add(
        List.of(
            "LATENCY",
            "SAMPLES",
            "SECRET WORKS P50",
            "P90",
            "P99",
            "MAX",
            "READY P50",
            "READY P99",
            "HARBOR REQ/ROBOT"));
    for (JsonNode r : latency) {
      JsonNode works = r.path("secretWorksMs");
      JsonNode ready = r.path("readyMs");
      rows.add(
          List.of(
              r.path("latencyMs").asText() + "ms",
              r.path("samples").asText(),
              format(works.path("p50").asDouble(), 0) + " ms",
              format(works.path("p90").asDouble(), 0) + " ms",
              format(works.path("p99").asDouble(), 0) + " ms",
              format(works.path("max").asDouble(), 0) + " ms",
              format(ready.path("p50").asDouble(), 0) + " ms",
              format(ready.path("p99").asDouble(), 0) + " ms",
              format(r.path("harborRequestsPerRobot").asDouble(), 2)));
    }
    out.printf(
        "%nSingle-robot latency: apply -> Secret that logs in, and -> Ready%n%s", table(rows));
    for (JsonNode r : latency) {
      out.printf(
          "  %sms Harbor requests per robot: %s%n",
          r.path("latencyMs").asText(), routes(r.path("harborRequestsPerRobotByRoute")));
    }
  }

  private void printStartup(PrintStream out) {
    List<JsonNode> startup = of(Scenario.startup);
    if (startup.isEmpty()) {
      return;
    }
    List<List<String>> rows = new ArrayList<>();
    rows.add(
        List.of(
            "ROBOTS",
            "RUN",
            "/READYZ",
            "FIRST RECONCILE",
            "FIRST RECONCILE DONE",
            "RSS",
            "THREADS"));
    for (JsonNode r : startup) {
      int i = 1;
      for (JsonNode run : r.path("runs")) {
        rows.add(
            List.of(
                r.path("robots").asText(),
                Integer.toString(i++),
                format(run.path("readyzSeconds").asDouble(), 2) + " s",
                format(run.path("firstReconcileSeconds").asDouble(), 2) + " s",
                format(run.path("firstReconcileDoneSeconds").asDouble(), 2) + " s",
                run.path("rssMiB").asText() + " MiB",
                run.path("threads").asText()));
      }
    }
    out.printf(
        "%nStart-up (robots Ready, operator restarted): process spawned -> /readyz, -> first"
            + " HarborRobot reconcile started and done%n%s",
        table(rows));
  }

  private void printMemory(PrintStream out) {
    List<JsonNode> memory = of(Scenario.memory);
    if (memory.isEmpty()) {
      return;
    }
    List<List<String>> rows = new ArrayList<>();
    rows.add(
        List.of(
            "ROBOTS",
            "UNRELATED SECRETS",
            "WHEN",
            "HEAP AFTER GC",
            "HEAP COMMITTED",
            "RSS",
            "PEAK RSS",
            "THREADS",
            "FIRST RECONCILE",
            "ALL READY"));
    for (JsonNode r : memory) {
      for (String when : List.of("afterStartup", "steady")) {
        JsonNode s = r.path(when);
        rows.add(
            List.of(
                r.path("robots").asText(),
                r.path("unrelatedSecrets").asText(),
                when.equals("steady") ? "all Ready + 10s" : "after start-up",
                s.path("heapAfterGcMiB").asText() + " MiB",
                s.path("heapCommittedMiB").asText() + " MiB",
                s.path("rssMiB").asText() + " MiB",
                s.path("peakRssMiB").asText() + " MiB",
                s.has("maxThreadsSeen")
                    ? s.path("threads").asText()
                        + " (max "
                        + s.path("maxThreadsSeen").asText()
                        + ")"
                    : s.path("threads").asText(),
                format(r.path("startup").path("firstReconcileSeconds").asDouble(), 2) + " s",
                r.path("readySeconds").isNumber()
                    ? format(r.path("readySeconds").asDouble(), 1) + " s"
                    : "no (" + r.path("ready").asText() + ")"));
      }
    }
    out.printf("%nMemory: the operator process alone (%s GC)%n%s", collector(memory), table(rows));
    for (JsonNode r : memory) {
      out.printf(
          "  Secret lists and watches of the operator: %s%n  threads by name: %s%n",
          r.path("secretListsAndWatches").toString(), routes(r.path("threadsByName")));
    }
  }

  private static String collector(List<JsonNode> memory) {
    return memory.stream()
        .map(r -> r.path("collector").asText("?"))
        .collect(Collectors.toCollection(TreeSet::new))
        .toString();
  }

  private static String routes(JsonNode byRoute) {
    List<String> parts = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = byRoute.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      parts.add(e.getKey() + " " + e.getValue().asText());
    }
    return parts.isEmpty() ? "none" : String.join(", ", parts);
  }

  static String table(List<List<String>> rows) {
    int columns = rows.get(0).size();
    int[] widths = new int[columns];
    for (List<String> row : rows) {
      for (int i = 0; i < columns; i++) {
        widths[i] = Math.max(widths[i], row.get(i).length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (List<String> row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < columns; i++) {
        line.append(
            i == columns - 1
                ? row.get(i)
                : String.format("%-" + (widths[i] + 2) + "s", row.get(i)));
      }
      sb.append(line.toString().stripTrailing()).append('\n');
    }
    return sb.toString();
  }

  // ---------------------------------------------------------------------------------------------
  // numbers

  static String format(double value, int decimals) {
    return String.format(Locale.ROOT, "%." + decimals + "f", value);
  }

  static double round(double value) {
    return Math.round(value * 1000) / 1000.0;
  }

  static double seconds(long nanos) {
    return round(nanos / 1e9);
  }

  static long mib(long bytes) {
    return bytes < 0 ? -1 : Math.round(bytes / 1048576.0);
  }

  static String millis(Duration d) {
    return d.toMillis() + "ms";
  }

  /** The nearest-rank percentile {@code p} (0-100] of {@code values}; NaN for none. */
  static double percentile(List<Double> values, double p) {
    if (values.isEmpty()) {
      return Double.NaN;
    }
    List<Double> sorted = values.stream().sorted().toList();
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
  }

  static ObjectNode distribution(List<Double> values, ObjectNode factory) {
    ObjectNode node = factory.objectNode();
    node.put("p50", round(percentile(values, 50)));
    node.put("p90", round(percentile(values, 90)));
    node.put("p99", round(percentile(values, 99)));
    node.put("min", round(percentile(values, 0.0001)));
    node.put("max", round(percentile(values, 100)));
    node.put("mean", round(values.stream().mapToDouble(Double::doubleValue).average().orElse(0)));
    return node;
  }

  // ---------------------------------------------------------------------------------------------
  // the machine

  static ObjectNode machine() {
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    node.put("cores", Runtime.getRuntime().availableProcessors());
    node.put("cpu", cpuModel());
    node.put("memoryMiB", memTotalMiB());
    node.put("javaVersion", System.getProperty("java.version"));
    node.put(
        "javaVm", System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version"));
    node.put(
        "os",
        System.getProperty("os.name")
            + " "
            + System.getProperty("os.version")
            + " "
            + System.getProperty("os.arch"));
    node.put("loadAverageAtStart", loadAverage());
    return node;
  }

  static String machineLine() {
    return String.format(
        Locale.ROOT,
        "%d cores (%s), %d MiB, Java %s, load average %.2f",
        Runtime.getRuntime().availableProcessors(),
        cpuModel(),
        memTotalMiB(),
        System.getProperty("java.version"),
        loadAverage());
  }

  /** The 1-minute load average, or -1 where {@code /proc/loadavg} does not exist. */
  static double loadAverage() {
    try {
      return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  private static long memTotalMiB() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return -1;
  }

  private static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return "unknown";
  }
}
