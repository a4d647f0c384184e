package io.harborrobot.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.harborrobot.operator.config.LeaderElection;
import io.harborrobot.operator.config.OperatorConfig;
import io.harborrobot.operator.ops.LogFormat;
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
    assertThat(out.toString()).contains("run").contains("sandbox").contains("bench");
  }

  private static Main.Run parseRun(String... args) {
    CommandLine cli = Main.commandLine();
    String[] all = new String[args.length + 1];
    all[0] = "run";
    System.arraycopy(args, 0, all, 1, args.length);
    cli.parseArgs(all);
    return cli.getSubcommands().get("run").getCommand();
  }

  @Test
  void runFlagsBecomeTheOperatorsSettings() {
    Main.Run run =
        parseRun(
            "--namespaces",
            "team-a, team-b",
            "--robot-selector",
            "shard=a",
            "--leader-election",
            "--lease-name",
            "hro",
            "--lease-namespace",
            "ops",
            "--lease-duration",
            "20s",
            "--log-format",
            "json",
            "--metrics-port",
            "9090");

    OperatorConfig config = run.config();

    assertThat(config.namespaces()).containsExactlyInAnyOrder("team-a", "team-b");
    assertThat(config.robotSelector()).isEqualTo("shard=a");
    LeaderElection election = config.leaderElection();
    assertThat(election.leaseName()).isEqualTo("hro");
    assertThat(election.leaseNamespace()).isEqualTo("ops");
    assertThat(election.leaseDuration()).isEqualTo(Duration.ofSeconds(20));
    assertThat(election.identity()).isNotBlank();
    assertThat(election.renewDeadline()).isLessThan(election.leaseDuration());
    assertThat(election.retryPeriod()).isLessThan(election.renewDeadline());
    assertThat(run.logFormat).isEqualTo(LogFormat.JSON);
    assertThat(run.metricsPort).isEqualTo(9090);
  }

  @Test
  void withoutFlagsOneReplicaManagesEveryRobot() {
    OperatorConfig config = parseRun().config();

    assertThat(config.leaderElection()).isNull();
    assertThat(config.robotSelector()).isEmpty();
    assertThat(config.namespaces()).isEmpty();
  }

  @Test
  void aLeaseTooShortToRenewIsRefused() {
    Main.Run run = parseRun("--leader-election", "--lease-duration", "1s");

    assertThatThrownBy(run::config)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least 3s");
  }

  @Test
  void aBareLeaderElectionFlagMeansOnWhateverTheEnvironmentSays() {
    assertThat(parseRun("--leader-election").config().leaderElection()).isNotNull();
    assertThat(parseRun("--leader-election=false").config().leaderElection()).isNull();
    // with LEADER_ELECTION=true as the default, picocli negates the default for a bare boolean
    // flag unless its fallback value says otherwise
    assertThat(
            Main.commandLine()
                .getSubcommands()
                .get("run")
                .getCommandSpec()
                .findOption("--leader-election")
                .fallbackValue())
        .isEqualTo("true");
  }
}
