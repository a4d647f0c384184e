package io.harborrobot.operator.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sandbox watching a folder as GitOps watches a repository: what is added, edited and removed
 * reaches Harbor, a manifest the API server would reject is reported and not applied while the
 * others converge, and Harbor actions typed on the console are healed by the operator.
 */
class SandboxWatchIT {

  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path dir;

  private Sandbox sandbox;
  private PipedOutputStream console;
  private final ByteArrayOutputStream output = new ByteArrayOutputStream();
  private CompletableFuture<Integer> running;

  @BeforeEach
  void start() throws IOException {
    Files.copy(Path.of("examples/00-harbor-connection.yaml"), dir.resolve("00-connection.yaml"));
    write("web.yaml", robot("web", "preset: Pull"));
    write("batch.yaml", robot("batch", "preset: Pull"));
    write(
        "pushy.yaml",
        robot(
            "pushy",
            """
            permissions:
                - resource: repository
                  actions: [push]"""));
    sandbox = Sandbox.start(Sandbox.config());
    console = new PipedOutputStream();
    PipedInputStream in = new PipedInputStream(console);
    PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8);
    running =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return Sandbox.run(sandbox, dir, false, Duration.ZERO, in, out);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return -1;
              }
            });
  }

  @AfterEach
  void stop() throws Exception {
    if (!running.isDone()) {
      type("quit");
      running.get(30, TimeUnit.SECONDS);
    }
    sandbox.close();
  }

  /** Writes as an editor that saves safely does: the whole file appears at once. */
  private void write(String file, String content) throws IOException {
    Path temporary = Files.createTempFile(dir.getParent(), "manifest", ".tmp");
    Files.writeString(temporary, content);
    Files.move(temporary, dir.resolve(file), StandardCopyOption.ATOMIC_MOVE);
  }

  private static String robot(String name, String access) {
    return """
        apiVersion: harborrobot.io/v1alpha1
        kind: HarborRobot
        metadata:
          name: %s
          namespace: team-a
        spec:
          connectionRef:
            name: harbor
          project: team-a
          %s
        """
        .formatted(name, access);
  }

  private void type(String command) throws IOException {
    console.write((command + "\n").getBytes(StandardCharsets.UTF_8));
    console.flush();
  }

  /** What the sandbox printed so far; fails at once if the sandbox has ended with an error. */
  private String output() {
    if (running.isCompletedExceptionally()) {
      running.join(); // throws what ended it
    }
    return output.toString(StandardCharsets.UTF_8);
  }

  private HarborRobot awaitReady(String name) {
    return await()
        .atMost(WAIT)
        .until(
            () ->
                sandbox
                    .client()
                    .resources(HarborRobot.class)
                    .inNamespace("team-a")
                    .withName(name)
                    .get(),
            r -> r != null && Sandbox.isReady(r));
  }

  @Test
  void followsTheFolderAndRefusesWhatTheApiServerWould() throws Exception {
    awaitReady("web");
    awaitReady("batch");
    await()
        .atMost(WAIT)
        .until(
            this::output,
            o ->
                o.contains("error: " + dir.resolve("pushy.yaml"))
                    && o.contains("The HarborRobot \"pushy\" is invalid"));
    assertThat(output()).contains("harborrobot.harborrobot.io/web (namespace team-a) created");
    assertThat(
            sandbox
                .client()
                .resources(HarborRobot.class)
                .inNamespace("team-a")
                .withName("pushy")
                .get())
        .as("a rejected manifest is not applied")
        .isNull();
    // The tables are printed once the robots have settled, a moment after they are Ready.
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(output())
                    .as("the tables show the robots")
                    .contains("HarborRobots")
                    .contains("robot$team-a+web"));

    // an edit reaches Harbor
    write(
        "web.yaml",
        robot(
            "web",
            """
            permissions:
                - resource: repository
                  actions: [pull, push]"""));
    await()
        .atMost(WAIT)
        .until(
            () -> sandbox.harbor().findRobot("team-a", "web").orElseThrow().permissions(),
            p -> p.contains("repository:push"));
    assertThat(output()).contains("harborrobot.harborrobot.io/web (namespace team-a) configured");

    // a refused edit (a typo) keeps the robot as it was
    write("batch.yaml", robot("batch", "preset: pull"));
    await()
        .atMost(WAIT)
        .until(this::output, o -> o.contains("spec.preset: Unsupported value: \"pull\""));
    assertThat(sandbox.harbor().findRobot("team-a", "batch")).isPresent();

    // a removal deletes the robot in Harbor
    Files.delete(dir.resolve("batch.yaml"));
    await().atMost(WAIT).until(() -> sandbox.harbor().findRobot("team-a", "batch").isEmpty());
    assertThat(output()).contains("harborrobot.harborrobot.io/batch (namespace team-a) deleted");

    // the fixed manifest is applied
    write(
        "pushy.yaml",
        robot(
            "pushy",
            """
            permissions:
                - resource: repository
                  actions: [pull, push]"""));
    awaitReady("pushy");

    type("quit");
    assertThat(running.get(30, TimeUnit.SECONDS)).isZero();
    assertThat(HarborEmulator.secretsEverIssued())
        .as("no robot secret reaches the console")
        .isNotEmpty()
        .noneMatch(output()::contains);
  }

  @Test
  void harborActionsOnTheConsoleAreHealedByTheOperator() throws Exception {
    long id = awaitReady("web").getStatus().getRobotId();

    type("refresh team-a/web");
    await()
        .atMost(WAIT)
        .until(this::output, o -> o.contains("CredentialRepaired") && o.contains("team-a/web"));

    type("delete team-a/web");
    await()
        .atMost(WAIT)
        .until(
            () -> sandbox.harbor().findRobot("team-a", "web"),
            r -> r.isPresent() && r.get().id() != id);
    awaitReady("web");

    type("frobnicate");
    type("refresh team-a/nobody");
    await()
        .atMost(WAIT)
        .until(
            this::output,
            o ->
                o.contains("unknown command 'frobnicate'")
                    && o.contains("no HarborRobot team-a/nobody"));
    type("help");
    await().atMost(WAIT).until(this::output, o -> o.contains("outage <duration>"));
  }
}
