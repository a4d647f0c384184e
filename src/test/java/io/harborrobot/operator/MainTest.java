package io.harborrobot.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class MainTest {

  @Test
  void durationsReadLikeKubectlOrIso() {
    assertThat(Main.parseDuration("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(Main.parseDuration("10m")).isEqualTo(Duration.ofMinutes(10));
    assertThat(Main.parseDuration("1h")).isEqualTo(Duration.ofHours(1));
    assertThat(Main.parseDuration("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(Main.parseDuration("PT5M")).isEqualTo(Duration.ofMinutes(5));
    assertThatThrownBy(() -> Main.parseDuration("soon"))
        .isInstanceOf(CommandLine.TypeConversionException.class)
        .hasMessageContaining("not a duration");
  }

  @Test
  void helpListsBothCommands() {
    var out = new java.io.StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new java.io.PrintWriter(out));
    assertThat(cli.execute("--help")).isZero();
    assertThat(out.toString()).contains("run").contains("sandbox");
  }
}
