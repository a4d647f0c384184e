package io.harborrobot.operator.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sandbox as the README runs it: every example ends Ready with a working credential. */
class SandboxIT {

  /** Any 32-character run of letters and digits: the shape of every generated robot secret. */
  private static final String SECRET_SHAPE =
      "(?s).*(?<![A-Za-z0-9])[A-Za-z0-9]{32}(?![A-Za-z0-9]).*";

  @Test
  void theReadmeCommandEndsWithEveryExampleReady() throws Exception {
    Path jar = Path.of(System.getProperty("buildDirectory", "target"), "harbor-robot-operator.jar");
    assertThat(jar).as("the shaded jar built by mvn package").exists();
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of("-jar", jar.toString(), "sandbox", "--once"));
    Process process =
        new ProcessBuilder(command)
            .directory(Path.of("").toAbsolutePath().toFile())
            .redirectErrorStream(true)
            .start();
    process.getOutputStream().close();
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    Thread reader = new Thread(() -> copy(process, stdout));
    reader.start();
    boolean exited = process.waitFor(120, TimeUnit.SECONDS);
    if (!exited) {
      process.destroyForcibly();
    }
    reader.join(Duration.ofSeconds(10).toMillis());
    String output = stdout.toString(StandardCharsets.UTF_8);

    assertThat(exited).as(output).isTrue();
    assertThat(process.exitValue()).as(output).isZero();
    assertThat(output)
        .contains("All 6 HarborRobots are Ready.")
        .contains("robot$scanner")
        .contains("robot$team-b+tenant-pull")
        .contains("robot$team-a+app-pull")
        .contains("robot$team-a+gitlab-ci")
        .contains("robot$team-a+ci-runner")
        .contains("robot$team-a+builder-pull")
        .contains("deployment.apps/web (namespace team-a) created")
        .contains("serviceaccount/builder (namespace team-a) created")
        .contains("Opaque")
        .contains("kubernetes.io/dockerconfigjson");
    assertThat(output.lines().filter(l -> l.startsWith("team-") && l.endsWith(" ok")))
        .as("every Secret logs in to the emulator's registry\n%s", output)
        .hasSize(6);
    assertThat(output).doesNotMatch(SECRET_SHAPE);
  }

  @Test
  void everyExampleIsAppliedAndDoesWhatItsCommentSays() {
    try (Sandbox sandbox = Sandbox.start(Sandbox.config())) {
      ManifestFolder.Snapshot examples = ManifestFolder.read(Path.of("examples"));
      assertThat(examples.problems()).isEmpty();
      FolderSync.Result applied = sandbox.folderSync(line -> {}).sync(examples);
      assertThat(applied.clean()).as("%s", applied).isTrue();

      await().atMost(Duration.ofSeconds(60)).until(sandbox::allReady);

      assertThat(sandbox.robots())
          .hasSize(
              (int)
                  examples.manifests().stream()
                      .filter(m -> m.kind().kind().equals("HarborRobot"))
                      .count());
      var builder =
          sandbox.client().serviceAccounts().inNamespace("team-a").withName("builder").get();
      assertThat(builder.getImagePullSecrets())
          .extracting(LocalObjectReference::getName)
          .containsExactly("registry-mirror", "builder-pull");
      Secret env =
          sandbox.client().secrets().inNamespace("team-a").withName("ci-runner-harbor").get();
      assertThat(env.getType()).isEqualTo("Opaque");
      assertThat(env.getData()).containsKeys("HARBOR_URL", "HARBOR_PASSWORD");
      Deployment web =
          sandbox.client().apps().deployments().inNamespace("team-a").withName("web").get();
      String pullSecret =
          web.getSpec().getTemplate().getSpec().getImagePullSecrets().get(0).getName();
      assertThat(sandbox.client().secrets().inNamespace("team-a").withName(pullSecret).get())
          .as("the Deployment's pull secret exists")
          .isNotNull();
    }
  }

  @Test
  void onceFailsAndSaysWhyWhenAManifestIsRejected(@TempDir Path dir) throws Exception {
    Files.copy(Path.of("examples/00-harbor-connection.yaml"), dir.resolve("00.yaml"));
    Files.writeString(
        dir.resolve("pushy.yaml"),
        """
        apiVersion: harborrobot.io/v1alpha1
        kind: HarborRobot
        metadata:
          name: pushy
          namespace: team-a
        spec:
          connectionRef:
            name: harbor
          project: team-a
          permissions:
            - resource: repository
              actions: [push]
        """);
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    int exit =
        Sandbox.run(
            dir,
            true,
            Duration.ofSeconds(5),
            false,
            InputStream.nullInputStream(),
            new PrintStream(out, true, StandardCharsets.UTF_8));

    assertThat(exit).isEqualTo(1);
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains(
            "error: "
                + dir.resolve("pushy.yaml")
                + ": The HarborRobot \"pushy\" is invalid: spec: Invalid value: \"object\":"
                + " repository push requires repository pull");
  }

  private static void copy(Process process, ByteArrayOutputStream into) {
    try {
      process.getInputStream().transferTo(into);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
