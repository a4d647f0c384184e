package io.harborrobot.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.harborrobot.operator.bench.BenchCommand;
import io.harborrobot.operator.config.Durations;
import io.harborrobot.operator.config.LeaderElection;
import io.harborrobot.operator.config.OperatorConfig;
import io.harborrobot.operator.harbor.OkHttpHarborClientFactory;
import io.harborrobot.operator.ops.CommonPool;
import io.harborrobot.operator.ops.Health;
import io.harborrobot.operator.ops.HttpEndpoints;
import io.harborrobot.operator.ops.LogFormat;
import io.harborrobot.operator.ops.OperatorMetrics;
import io.harborrobot.operator.ops.OperatorRuntime;
import io.harborrobot.operator.sandbox.Sandbox;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The one entry point: {@code run} (default), {@code sandbox} and {@code bench}. */
@Command(
    name = "harbor-robot-operator",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Manages Harbor robot accounts and their Secrets from HarborRobot resources.",
    subcommands = {Main.Run.class, Main.SandboxCommand.class, BenchCommand.class})
public final class Main implements Callable<Integer> {

  public static void main(String[] args) {
    CommonPool.ensureShared();
    System.exit(commandLine().execute(args));
  }

  public static CommandLine commandLine() {
    return new CommandLine(new Main())
        .registerConverter(Duration.class, Main::parseDuration)
        .setCaseInsensitiveEnumValuesAllowed(true);
  }

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /**
   * Without a subcommand the operator runs, as in a Deployment: through picocli, so that the
   * options get their defaults (environment variables included).
   */
  @Override
  public Integer call() {
    return spec.subcommands().get("run").execute();
  }

  /** Runs the operator against the current kubeconfig or the in-cluster service account. */
  @Command(name = "run", mixinStandardHelpOptions = true, description = "Run the operator.")
  static final class Run implements Callable<Integer> {

    @Option(
        names = "--namespaces",
        split = ",",
        defaultValue = "${env:WATCH_NAMESPACES:-}",
        description =
            "Namespaces to watch, comma-separated; all when empty (env WATCH_NAMESPACES).")
    List<String> namespaces = List.of();

    @Option(
        names = "--resync-period",
        defaultValue = "${env:RESYNC_PERIOD:-10m}",
        description =
            "Longest time between two reconciles of an unchanged robot, which bounds how long"
                + " drift made by hand in Harbor lasts (env RESYNC_PERIOD, default 10m).")
    Duration resyncPeriod;

    @Option(
        names = "--credential-check-period",
        defaultValue = "${env:CREDENTIAL_CHECK_PERIOD:-30m}",
        description =
            "How often each Secret's credential is checked with a registry login, besides after"
                + " every change; bounds how long a secret refreshed by hand in Harbor goes"
                + " unnoticed (env CREDENTIAL_CHECK_PERIOD, default 30m).")
    Duration credentialCheckPeriod;

    @Option(
        names = "--connection-check-period",
        defaultValue = "${env:CONNECTION_CHECK_PERIOD:-5m}",
        description =
            "How often each connection is probed (reachable, credentials accepted, version),"
                + " besides when its spec or Secrets change (env CONNECTION_CHECK_PERIOD,"
                + " default 5m).")
    Duration connectionCheckPeriod;

    @Option(
        names = "--robot-selector",
        defaultValue = "${env:ROBOT_SELECTOR:-}",
        description =
            "Label selector: only HarborRobots matching it are managed, to shard a large fleet"
                + " across several operator deployments (env ROBOT_SELECTOR; default all).")
    String robotSelector;

    @Option(
        names = "--metrics-port",
        defaultValue = "${env:METRICS_PORT:-8080}",
        description =
            "Port serving /metrics, /healthz and /readyz (env METRICS_PORT, default 8080).")
    int metricsPort;

    @Option(
        names = "--leader-election",
        arity = "0..1",
        // A bare --leader-election means true, also when LEADER_ELECTION=true (picocli would
        // otherwise negate the default).
        fallbackValue = "true",
        defaultValue = "${env:LEADER_ELECTION:-false}",
        description =
            "Elect a leader through a Lease, so that several replicas can run and only one"
                + " reconciles (env LEADER_ELECTION, default false).")
    boolean leaderElection;

    @Option(
        names = "--lease-name",
        defaultValue = "${env:LEASE_NAME:-" + LeaderElection.DEFAULT_LEASE_NAME + "}",
        description = "Name of the Lease (env LEASE_NAME, default ${DEFAULT-VALUE}).")
    String leaseName;

    @Option(
        names = "--lease-namespace",
        defaultValue = "${env:LEASE_NAMESPACE:-}",
        description =
            "Namespace of the Lease (env LEASE_NAMESPACE, else POD_NAMESPACE, else the"
                + " namespace of the in-cluster service account).")
    String leaseNamespace;

    @Option(
        names = "--lease-duration",
        defaultValue = "${env:LEASE_DURATION:-15s}",
        description =
            "How long a Lease that is not renewed keeps the other replicas waiting; the leader"
                + " renews it within two thirds of that (env LEASE_DURATION, default 15s).")
    Duration leaseDuration;

    @Option(
        names = "--log-format",
        defaultValue = "${env:LOG_FORMAT:-plain}",
        description = "plain or json, one line per event (env LOG_FORMAT, default plain).")
    LogFormat logFormat;

    OperatorConfig config() {
      OperatorConfig config =
          OperatorConfig.defaults()
              .withResyncPeriod(resyncPeriod)
              .withCredentialCheckPeriod(credentialCheckPeriod)
              .withConnectionCheckPeriod(connectionCheckPeriod)
              .withRobotSelector(robotSelector)
              .withNamespaces(
                  new LinkedHashSet<>(
                      namespaces.stream().map(String::trim).filter(s -> !s.isEmpty()).toList()));
      if (!leaderElection) {
        return config;
      }
      String namespace = leaseNamespace.isBlank() ? env("POD_NAMESPACE") : leaseNamespace;
      String identity = env("HOSTNAME");
      return config.withLeaderElection(
          new LeaderElection(
              leaseName,
              namespace.isBlank() ? null : namespace,
              identity.isBlank() ? UUID.randomUUID().toString() : identity,
              leaseDuration));
    }

    private static String env(String name) {
      String value = System.getenv(name);
      return value == null ? "" : value.trim();
    }

    @Override
    public Integer call() throws Exception {
      logFormat.apply();
      OperatorConfig config = config();
      PrometheusMeterRegistry registry = OperatorMetrics.newRegistry();
      AtomicReference<OperatorRuntime> running = new AtomicReference<>();
      CountDownLatch stopped = new CountDownLatch(1);
      KubernetesClient kubernetes = new KubernetesClientBuilder().build();
      try (AutoCloseable jvm = OperatorMetrics.bindJvmMetrics(registry);
          HttpEndpoints http =
              HttpEndpoints.start(
                  metricsPort,
                  registry,
                  () -> running.get() == null ? Health.starting() : running.get().health())) {
        OperatorRuntime runtime =
            OperatorRuntime.start(
                kubernetes,
                new OkHttpHarborClientFactory(registry),
                config,
                Clock.systemUTC(),
                registry);
        running.set(runtime);
        // The hook itself stops the operator (giving up the Lease at once): the JVM halts as soon
        // as its hooks are done, whatever the main thread is doing.
        Runtime.getRuntime()
            .addShutdownHook(
                new Thread(
                    () -> {
                      runtime.close();
                      stopped.countDown();
                    },
                    "shutdown"));
        stopped.await();
      } finally {
        kubernetes.close();
      }
      return 0;
    }
  }

  /** Runs everything in one process with an in-memory API server and a Harbor emulator. */
  @Command(
      name = "sandbox",
      mixinStandardHelpOptions = true,
      description = {
        "Run the operator against an in-memory Kubernetes API and a Harbor emulator. The"
            + " manifests of a folder are applied as GitOps would: every one at start, then"
            + " edits, additions and removals as they happen, each admitted by the CRDs' schema"
            + " and CEL rules as a real API server would. HarborRobots, their Secrets (masked)"
            + " and Events are shown as they change; Harbor actions typed on the console (help"
            + " lists them) break things in Harbor for the operator to heal."
      })
  static final class SandboxCommand implements Callable<Integer> {

    @Option(
        names = "--dir",
        defaultValue = "examples",
        description = "Folder of manifests to apply and watch (default: ${DEFAULT-VALUE}).")
    Path dir;

    @Option(
        names = "--once",
        description =
            "Apply the folder, wait until every HarborRobot is Ready and exit 0; exit 1 with the"
                + " reasons when one is not Ready within --timeout or a manifest is rejected.")
    boolean once;

    @Option(
        names = "--timeout",
        defaultValue = "60s",
        description = "How long --once waits (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--verbose", description = "Show the operator's log.")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
      try {
        return Sandbox.run(dir, once, timeout, verbose, System.in, System.out);
      } catch (RuntimeException e) {
        // 2, not 1: the sandbox itself failed, which is not "a robot is not Ready"
        System.out.printf("error: the sandbox failed: %s%n", e);
        return 2;
      }
    }
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = Main.class.getPackage().getImplementationVersion();
      return new String[] {"harbor-robot-operator " + (version == null ? "dev" : version)};
    }
  }

  /** Accepts Go-style durations (90s, 10m, 1h) and ISO-8601 (PT10M). */
  static Duration parseDuration(String text) {
    try {
      return Durations.parse(text);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.TypeConversionException(e.getMessage());
    }
  }
}
