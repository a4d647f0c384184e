package io.harborrobot.operator.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.harborrobot.operator.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code bench} command end to end with tiny sizes: every scenario runs the real operator as a
 * process of its own and the JSON has the documented fields with sane values. Nothing here is about
 * how fast anything is: docs/performance.md holds the measurements.
 */
class BenchCommandIT {

  /** Any 32-character run of letters and digits: the shape of every generated robot secret. */
  private static final String SECRET_SHAPE =
      "(?s).*(?<![A-Za-z0-9])[A-Za-z0-9]{32}(?![A-Za-z0-9]).*";

  @Test
  void everyScenarioReportsItsFigures(@TempDir Path dir) throws Exception {
    Path json = dir.resolve("bench.json");
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream stdout = System.out;
    int exit;
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      exit =
          Main.commandLine()
              .execute(
                  "bench",
                  "--scenarios=cold,steady,latency,startup,memory",
                  "--robots=4",
                  "--robots-per-project=2",
                  "--latency=0ms",
                  "--resync-period=3s",
                  "--latency-samples=3",
                  "--latency-warmup=1",
                  "--startup-runs=1",
                  "--memory-robots=4",
                  "--memory-unrelated-secrets=30",
                  "--ready-timeout=3m",
                  "--json=" + json,
                  "--work-dir=" + dir.resolve("work"));
    } finally {
      System.setOut(stdout);
    }
    String output = captured.toString(StandardCharsets.UTF_8);
    stdout.print(output);
    assertThat(exit).as(output).isZero();
    assertThat(output)
        .contains("Cold start")
        .contains("Steady state")
        .contains("Single-robot latency")
        .contains("Start-up")
        .contains("Memory")
        .doesNotMatch(SECRET_SHAPE);

    JsonNode root = new ObjectMapper().readTree(json.toFile());
    assertThat(root.path("machine").path("cores").asInt()).isPositive();
    assertThat(root.path("machine").path("memoryMiB").asLong()).isPositive();
    assertThat(root.path("machine").path("javaVersion").asText()).isNotEmpty();
    assertThat(root.path("minimalRequestsPerNewRobot").path("value").asInt()).isEqualTo(3);
    assertThat(root.path("operator").path("jvmFlags").toString())
        .contains("-XX:MaxRAMPercentage=75")
        .contains("-XX:MaxRAM=" + (512L << 20));
    assertThat(root.path("failures")).isEmpty();

    JsonNode cold = only(root, "cold");
    assertThat(cold.path("robots").asInt()).isEqualTo(4);
    assertThat(cold.path("projects").asInt()).isEqualTo(2);
    assertThat(cold.path("ready").asInt()).isEqualTo(4);
    assertThat(cold.path("workingSecrets").asInt()).isEqualTo(4);
    assertThat(cold.path("seconds").asDouble()).isPositive();
    assertThat(cold.path("harborRequestsByRoute").path("POST /api/v2.0/robots").asInt())
        .isEqualTo(4);
    assertThat(cold.path("harborRequestsPerRobot").asDouble())
        .isGreaterThanOrEqualTo(Bench.MINIMAL_REQUESTS_PER_ROBOT);
    assertThat(cold.path("lowerBoundSeconds").asDouble()).isZero();
    assertThat(cold.path("ratioToLowerBound").isNull()).as("no lower bound at 0 ms").isTrue();
    assertThat(cold.path("kubernetesRequestsPerRobotByKind").path("POST secrets").asDouble())
        .isEqualTo(1.0);
    assertThat(cold.path("robotReconciles").asInt()).isGreaterThanOrEqualTo(4);

    JsonNode steady = only(root, "steady");
    assertThat(steady.path("resyncPeriodSeconds").asDouble()).isEqualTo(3.0);
    assertThat(steady.path("resync").path("reconciles").asInt()).isPositive();
    assertThat(steady.path("resync").path("harborRequestsByRoute").has("GET /v2/"))
        .as("no credential check in the resync window")
        .isFalse();
    assertThat(steady.path("harborRequestsPerRobotPerResync").isNumber()).isTrue();
    assertThat(steady.path("restart").path("complete").asBoolean()).isTrue();
    assertThat(steady.path("withCredentialChecks").path("registryLogins").asInt()).isPositive();
    assertThat(steady.path("harborRequestsPerVerification").isNumber()).isTrue();

    JsonNode latency = only(root, "latency");
    assertThat(latency.path("samples").asInt()).isEqualTo(3);
    for (String field : List.of("secretWorksMs", "readyMs")) {
      JsonNode d = latency.path(field);
      assertThat(d.path("p50").asDouble()).as(field).isPositive();
      assertThat(d.path("p99").asDouble())
          .as(field)
          .isGreaterThanOrEqualTo(d.path("p50").asDouble());
      assertThat(d.path("max").asDouble())
          .as(field)
          .isGreaterThanOrEqualTo(d.path("p99").asDouble());
    }

    JsonNode startup = only(root, "startup");
    assertThat(startup.path("runs")).hasSize(1);
    assertThat(startup.path("firstReconcileSeconds").asDouble()).isPositive();
    assertThat(startup.path("readyzSeconds").asDouble()).isPositive();

    JsonNode memory = only(root, "memory");
    assertThat(memory.path("allReady").asBoolean()).isTrue();
    assertThat(memory.path("unrelatedSecrets").asInt()).isEqualTo(30);
    assertThat(memory.path("collector").asText()).isEqualTo("Serial");
    for (String when : List.of("afterStartup", "steady")) {
      JsonNode s = memory.path(when);
      assertThat(s.path("heapAfterGcMiB").asLong()).as(when).isPositive();
      assertThat(s.path("rssMiB").asLong()).as(when).isPositive();
      assertThat(s.path("peakRssMiB").asLong())
          .as(when)
          .isGreaterThanOrEqualTo(s.path("rssMiB").asLong());
      assertThat(s.path("threads").asInt()).as(when).isPositive();
    }
    assertThat(memory.path("secretListsAndWatches")).isNotEmpty();
    assertThat(memory.path("secretListsAndWatchesFiltered").asBoolean())
        .as("%s", memory.path("secretListsAndWatches"))
        .isTrue();

    List<String> targets = new ArrayList<>();
    root.path("targets").forEach(t -> targets.add(t.path("target").asText()));
    assertThat(targets).anyMatch(t -> t.startsWith("steady-state resync"));
    assertThat(targets).anyMatch(t -> t.startsWith("start-up"));
  }

  private static JsonNode only(JsonNode root, String scenario) {
    List<JsonNode> found = new ArrayList<>();
    root.path("results")
        .forEach(
            r -> {
              if (scenario.equals(r.path("scenario").asText())) {
                found.add(r);
              }
            });
    assertThat(found).as(scenario).hasSize(1);
    return found.get(0);
  }
}
