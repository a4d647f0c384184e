package io.harborrobot.operator.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.bench.IndexedApiServer.RequestKind;
import io.harborrobot.operator.sandbox.HarborEmulator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The pieces of the benchmark that need no operator process. */
class BenchTest {

  @Test
  void theIndexedApiServerStoresReadsAndListsLikeTheStockOne() {
    try (IndexedApiServer api = IndexedApiServer.start()) {
      KubernetesClient client = api.client();
      for (String ns : List.of("a", "b")) {
        client
            .namespaces()
            .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
            .create();
      }
      // the same name in two namespaces and in two kinds
      for (String ns : List.of("a", "b")) {
        client
            .secrets()
            .inNamespace(ns)
            .resource(
                new SecretBuilder()
                    .withNewMetadata()
                    .withName("same")
                    .withLabels(Map.of("team", ns))
                    .endMetadata()
                    .withStringData(Map.of("k", ns))
                    .build())
            .create();
      }
      client
          .configMaps()
          .inNamespace("a")
          .resource(
              new ConfigMapBuilder()
                  .withNewMetadata()
                  .withName("same")
                  .endMetadata()
                  .withData(Map.of("k", "cm"))
                  .build())
          .create();

      assertThat(client.secrets().inNamespace("a").withName("same").get().getMetadata().getLabels())
          .containsEntry("team", "a");
      assertThat(client.secrets().inNamespace("b").withName("same").get().getMetadata().getLabels())
          .containsEntry("team", "b");
      assertThat(client.configMaps().inNamespace("a").withName("same").get().getData())
          .containsEntry("k", "cm");
      assertThat(client.secrets().inNamespace("a").withName("other").get()).isNull();

      Secret edited =
          client
              .secrets()
              .inNamespace("a")
              .withName("same")
              .edit(
                  s -> {
                    s.getMetadata().setLabels(Map.of("team", "a", "edited", "yes"));
                    return s;
                  });
      assertThat(edited.getMetadata().getLabels()).containsEntry("edited", "yes");
      assertThat(client.secrets().inNamespace("a").withName("same").get().getMetadata().getLabels())
          .containsEntry("edited", "yes");
      assertThat(client.secrets().inAnyNamespace().withLabel("edited", "yes").list().getItems())
          .hasSize(1);
      ConfigMap cm = client.configMaps().inNamespace("a").withName("same").get();
      cm.setData(Map.of("k", "replaced"));
      client.configMaps().resource(cm).update();
      assertThat(client.configMaps().inNamespace("a").withName("same").get().getData())
          .containsEntry("k", "replaced");

      client.secrets().inNamespace("b").withName("same").delete();
      assertThat(client.secrets().inNamespace("b").withName("same").get()).isNull();
      assertThat(client.secrets().inAnyNamespace().list().getItems()).hasSize(1);

      HarborRobot robot = BenchWorld.robot("a", "robot-1", 1);
      client.resource(robot).create();
      assertThat(
              client
                  .resources(HarborRobot.class)
                  .inNamespace("a")
                  .withName("robot-1")
                  .get()
                  .getSpec())
          .satisfies(spec -> assertThat(spec.getProject()).isEqualTo("a"));

      assertThat(api.objectCount()) // 3 CRDs, 2 namespaces, a Secret, a ConfigMap and a HarborRobot
          .isEqualTo(8);
    }
  }

  @Test
  void theIndexFollowsEveryChange() {
    try (IndexedApiServer api = IndexedApiServer.start()) {
      KubernetesClient client = api.client();
      client
          .namespaces()
          .resource(new NamespaceBuilder().withNewMetadata().withName("a").endMetadata().build())
          .create();
      for (int i = 0; i < 20; i++) {
        client
            .secrets()
            .inNamespace("a")
            .resource(
                new SecretBuilder()
                    .withNewMetadata()
                    .withName("s" + i)
                    .endMetadata()
                    .withStringData(Map.of("k", "v"))
                    .build())
            .create();
        HarborRobot robot = BenchWorld.robot("a", "s" + i, i);
        client.resource(robot).create();
      }
      for (int i = 0; i < 20; i += 2) {
        client
            .secrets()
            .inNamespace("a")
            .withName("s" + i)
            .edit(
                s -> {
                  s.getMetadata().setLabels(Map.of("edited", "yes"));
                  return s;
                });
        HarborRobot robot =
            client.resources(HarborRobot.class).inNamespace("a").withName("s" + i).get();
        robot.setStatus(new io.harborrobot.operator.api.v1alpha1.HarborRobotStatus());
        robot.getStatus().setRobotName("robot$a+s" + i);
        client.resource(robot).updateStatus();
      }
      for (int i = 0; i < 20; i += 3) {
        client.secrets().inNamespace("a").withName("s" + i).delete();
      }
      assertThat(api.indexConsistent()).isTrue();
      assertThat(client.secrets().inNamespace("a").list().getItems()).hasSize(13);
      assertThat(client.secrets().inNamespace("a").withLabel("edited", "yes").list().getItems())
          .hasSize(6);
      assertThat(
              client.resources(HarborRobot.class).inNamespace("a").withName("s4").get().getStatus())
          .satisfies(status -> assertThat(status.getRobotName()).isEqualTo("robot$a+s4"));
    }
  }

  @Test
  void requestsAreSortedByVerbAndResource() {
    assertThat(RequestKind.of("GET", "/api/v1/namespaces/a/secrets/s").key())
        .isEqualTo("GET secrets");
    assertThat(RequestKind.of("PUT", "/api/v1/namespaces/a/secrets/s").key())
        .isEqualTo("PUT secrets");
    assertThat(
            RequestKind.of(
                    "PUT", "/apis/harborrobot.io/v1alpha1/namespaces/a/harborrobots/r/status")
                .key())
        .isEqualTo("PUT harborrobots/status");
    assertThat(RequestKind.of("GET", "/apis/harborrobot.io/v1alpha1/harborrobots").key())
        .isEqualTo("LIST harborrobots");
    assertThat(RequestKind.of("GET", "/api/v1/namespaces").key()).isEqualTo("LIST namespaces");
    assertThat(RequestKind.of("GET", "/api/v1/namespaces/a").key()).isEqualTo("GET namespaces");
    RequestKind watch =
        RequestKind.of(
            "GET",
            "/api/v1/secrets?allowWatchBookmarks=true&labelSelector=app.kubernetes.io%2Fmanaged-by"
                + "%3Dharbor-robot-operator&resourceVersion=42&timeoutSeconds=600&watch=true");
    assertThat(watch.key()).isEqualTo("WATCH secrets");
    assertThat(watch.collection()).isTrue();
    assertThat(watch.normalizedPath())
        .isEqualTo(
            "WATCH /api/v1/secrets?labelSelector=app.kubernetes.io%2Fmanaged-by"
                + "%3Dharbor-robot-operator");
    assertThat(RequestKind.of("POST", "/api/v1/namespaces/a/events").key())
        .isEqualTo("POST events");
  }

  @Test
  void theKubeconfigPointsAtTheApiServer(@org.junit.jupiter.api.io.TempDir Path dir)
      throws Exception {
    try (IndexedApiServer api = IndexedApiServer.start()) {
      String kubeconfig = Files.readString(api.writeKubeconfig(dir));
      assertThat(kubeconfig).contains("server: " + api.url()).contains("current-context: bench");
      io.fabric8.kubernetes.client.Config config =
          io.fabric8.kubernetes.client.Config.fromKubeconfig(kubeconfig);
      assertThat(config.getMasterUrl()).startsWith(api.url());
    }
  }

  @Test
  void heapInUseIsReadFromGcHeapInfo() {
    String serial =
        """
        12345:
         def new generation   total 9792K, used 1024K [0x00000000e0000000, 0x00000000e0aa0000)
          eden space 8704K,  11% used [0x00000000e0000000, 0x00000000e0100000)
         tenured generation   total 21888K, used 2048K [0x00000000eaaa0000, 0x00000000ec000000)
         Metaspace       used 45678K, committed 46080K, reserved 1089536K
          class space    used 5678K, committed 5888K, reserved 1048576K
        """;
    assertThat(OperatorProcess.heapUsed(serial)).isEqualTo(3072L << 10);
    assertThat(OperatorProcess.heapCommitted(serial)).isEqualTo((9792L + 21888L) << 10);
    assertThat(OperatorProcess.metaspaceCommitted(serial)).isEqualTo(46080L << 10);
    String g1 =
        """
        9336:
         garbage-first heap   total 33792K, used 11088K [0x00000000e8000000, 0x0000000100000000)
          region size 1024K, 0 young (0K), 0 survivors (0K)
         Metaspace       used 74K, committed 320K, reserved 1114112K
        """;
    assertThat(OperatorProcess.heapUsed(g1)).isEqualTo(11088L << 10);
    assertThat(OperatorProcess.heapUsed("12345:\nsomething else\n")).isEqualTo(-1);
  }

  @Test
  void threadsAreGroupedByNameWithoutTheirNumbers() {
    String dump =
        """
        12345:
        2026-12-02 13:00:00
        Full thread dump OpenJDK 64-Bit Server VM (17.0.15+6 mixed mode, sharing):

        "main" #1 prio=5 os_prio=0 cpu=1.00ms elapsed=10.00s tid=0x1 nid=0x2 waiting on condition
        "ReconcilerExecutor-harborrobot-71" #71 prio=5 os_prio=0 tid=0x3 nid=0x4 waiting
        "ReconcilerExecutor-harborrobot-72" #72 prio=5 os_prio=0 tid=0x5 nid=0x6 waiting
        "OkHttp ConnectionPool" #20 daemon prio=5 os_prio=0 tid=0x7 nid=0x8 waiting
        """;
    assertThat(OperatorProcess.threadGroups(dump))
        .containsExactly(
            Map.entry("ReconcilerExecutor-harborrobot-#", 2),
            Map.entry("OkHttp ConnectionPool", 1),
            Map.entry("main", 1));
  }

  @Test
  void prometheusSamplesAreAddedUpByLabel() {
    OperatorProcess.PrometheusText text =
        new OperatorProcess.PrometheusText(
            """
            # HELP operator_sdk_reconciliations_started_total
            # TYPE operator_sdk_reconciliations_started_total counter
            operator_sdk_reconciliations_started_total{group="harborrobot.io",kind="HarborRobot",reconciliations_retries_number="0"} 12.0
            operator_sdk_reconciliations_started_total{group="harborrobot.io",kind="HarborRobot",reconciliations_retries_number="1"} 3.0
            operator_sdk_reconciliations_started_total{group="harborrobot.io",kind="HarborConnection",reconciliations_retries_number="0"} 7.0
            operator_sdk_reconciliations_started_total_extra{kind="HarborRobot"} 100.0
            jvm_gc_live_data_size_bytes 1048576.0
            """);
    assertThat(text.sum("operator_sdk_reconciliations_started_total", "kind", "HarborRobot"))
        .isEqualTo(15.0);
    assertThat(text.sum("jvm_gc_live_data_size_bytes", null, null)).isEqualTo(1048576.0);
    assertThat(text.sum("absent_total", null, null)).isZero();
  }

  @Test
  void theOperatorJvmGetsTheImageFlagsAndTheCollectorOfItsContainer() throws Exception {
    String entrypoint =
        Files.readAllLines(Path.of("Dockerfile")).stream()
            .filter(l -> l.startsWith("ENTRYPOINT"))
            .findFirst()
            .orElseThrow()
            .substring("ENTRYPOINT".length())
            .trim();
    List<String> command = new ObjectMapper().readValue(entrypoint, new TypeReference<>() {});
    assertThat(OperatorProcess.IMAGE_JVM_FLAGS)
        .as("the image's JVM flags, as the Dockerfile has them")
        .isEqualTo(command.stream().filter(a -> a.startsWith("-XX")).toList());

    assertThat(OperatorProcess.jvmFlags(512L << 20, List.of("-Dx=y")))
        .containsSequence(OperatorProcess.IMAGE_JVM_FLAGS)
        .contains("-XX:MaxRAM=" + (512L << 20), "-XX:+UseSerialGC")
        .endsWith("-Dx=y");
    assertThat(OperatorProcess.jvmFlags(4L << 30, List.of())).contains("-XX:+UseG1GC");
    assertThat(OperatorProcess.jvmFlags(0, List.of())).isEqualTo(OperatorProcess.IMAGE_JVM_FLAGS);
  }

  @Test
  void amountsOfMemoryReadLikeKubernetesQuantities() {
    assertThat(BenchCommand.parseBytes("512Mi")).isEqualTo(512L << 20);
    assertThat(BenchCommand.parseBytes("1Gi")).isEqualTo(1L << 30);
    assertThat(BenchCommand.parseBytes("800M")).isEqualTo(800_000_000L);
    assertThat(BenchCommand.parseBytes("none")).isZero();
    assertThat(BenchCommand.parseBytes("1048576")).isEqualTo(1L << 20);
  }

  @Test
  void percentilesAreNearestRank() {
    List<Double> values = List.of(5.0, 1.0, 4.0, 2.0, 3.0);
    assertThat(Report.percentile(values, 50)).isEqualTo(3.0);
    assertThat(Report.percentile(values, 99)).isEqualTo(5.0);
    assertThat(Report.percentile(values, 100)).isEqualTo(5.0);
    assertThat(Report.percentile(values, 0.0001)).isEqualTo(1.0);
    assertThat(Report.percentile(List.of(), 50)).isNaN();
  }

  /**
   * The lower bound's three requests are enough, in Harbor's API, for a new robot whose Secret
   * works: a create, the secret set by the caller, a registry login. They are named as the emulator
   * counts routes, which is how the bench counts them.
   */
  @Test
  void threeRequestsMakeARobotWithAWorkingCallerChosenSecret() throws Exception {
    try (HarborEmulator harbor = HarborEmulator.start()) {
      harbor.createProject("team");
      java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
      String admin = basic("admin", "Harbor12345");
      var created =
          http.send(
              java.net.http.HttpRequest.newBuilder(
                      java.net.URI.create(harbor.baseUrl() + "/api/v2.0/robots"))
                  .header("Authorization", admin)
                  .header("Content-Type", "application/json")
                  .POST(
                      java.net.http.HttpRequest.BodyPublishers.ofString(
                          "{\"name\":\"ci\",\"level\":\"project\",\"duration\":-1,"
                              + "\"permissions\":[{\"kind\":\"project\",\"namespace\":\"team\","
                              + "\"access\":[{\"resource\":\"repository\",\"action\":\"pull\"}]}]}"))
                  .build(),
              java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(created.statusCode()).isEqualTo(201);
      var body = new ObjectMapper().readTree(created.body());
      String secret = "Chosen-by-the-caller-1";
      var patched =
          http.send(
              java.net.http.HttpRequest.newBuilder(
                      java.net.URI.create(
                          harbor.baseUrl() + "/api/v2.0/robots/" + body.path("id").asLong()))
                  .header("Authorization", admin)
                  .header("Content-Type", "application/json")
                  .method(
                      "PATCH",
                      java.net.http.HttpRequest.BodyPublishers.ofString(
                          "{\"secret\":\"" + secret + "\"}"))
                  .build(),
              java.net.http.HttpResponse.BodyHandlers.discarding());
      assertThat(patched.statusCode()).isEqualTo(200);
      var login =
          http.send(
              java.net.http.HttpRequest.newBuilder(java.net.URI.create(harbor.baseUrl() + "/v2/"))
                  .header("Authorization", basic(body.path("name").asText(), secret))
                  .GET()
                  .build(),
              java.net.http.HttpResponse.BodyHandlers.discarding());
      assertThat(login.statusCode()).isEqualTo(200);
      assertThat(harbor.requestCountsByRoute().keySet())
          .containsExactlyInAnyOrderElementsOf(Bench.MINIMAL_REQUESTS);
    }
  }

  private static String basic(String user, String password) {
    return "Basic "
        + java.util.Base64.getEncoder()
            .encodeToString(
                (user + ":" + password).getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  @Test
  void theAutomaticResyncPeriodLeavesTimeForOneRequestPerRobot() {
    BenchOptions options =
        new BenchOptions(
            java.util.Set.of(BenchOptions.Scenario.steady),
            List.of(10_000),
            List.of(Duration.ofMillis(20)),
            8,
            1000,
            100,
            null,
            1,
            0,
            1,
            0,
            Duration.ZERO,
            1,
            1,
            0,
            List.of(),
            Duration.ofMinutes(1),
            null,
            Path.of("."),
            "bench");
    Bench bench = new Bench(options, System.out);
    assertThat(bench.resyncPeriod(10_000, Duration.ofMillis(20))).isEqualTo(Duration.ofSeconds(75));
    assertThat(bench.resyncPeriod(100, Duration.ofMillis(20))).isEqualTo(Duration.ofSeconds(30));
    assertThat(bench.resyncPeriod(1000, Duration.ZERO)).isEqualTo(Duration.ofSeconds(30));
  }
}
