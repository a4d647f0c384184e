package io.harborrobot.operator.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
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
        .contains("All 2 HarborRobots are Ready.")
        .contains("robot$team-a+app-pull")
        .contains("robot$team-a+gitlab-ci")
        .contains("kubernetes.io/dockerconfigjson");
    assertThat(output.lines().filter(l -> l.startsWith("team-a") && l.endsWith(" ok")))
        .as("both Secrets log in to the emulator's registry\n%s", output)
        .hasSize(2);
    assertThat(output).doesNotMatch(SECRET_SHAPE);
  }

  @Test
  void onceFailsAndSaysWhyWhenARobotCannotBecomeReady(@TempDir Path dir) throws Exception {
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
            new PrintStream(out, true, StandardCharsets.UTF_8));

    assertThat(exit).isEqualTo(1);
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("team-a/pushy: InvalidSpec: repository push requires repository pull");
  }

  private static void copy(Process process, ByteArrayOutputStream into) {
    try {
      process.getInputStream().transferTo(into);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
