package io.harborrobot.operator.sandbox;

import ch.qos.logback.classic.Level;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.harborrobot.operator.api.v1alpha1.Condition;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.config.OperatorConfig;
import io.harborrobot.operator.harbor.HarborClientFactory;
import io.harborrobot.operator.harbor.OkHttpHarborClientFactory;
import io.harborrobot.operator.ops.OperatorRuntime;
import io.harborrobot.operator.secret.CredentialSecrets;
import io.harborrobot.operator.validation.ManifestValidator;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.LoggerFactory;

/**
 * The operator with nothing installed: an in-memory Kubernetes API, a Harbor emulator and the
 * operator, in one process (DESIGN.md §8). Every HarborConnection is served by the emulator,
 * whatever its URL, and every project a HarborRobot names exists there.
 */
public final class Sandbox implements AutoCloseable {

  /** Harbor's well-known initial admin login; the examples' credentials Secret uses it. */
  public static final String ADMIN_USER = "admin";

  public static final String ADMIN_PASSWORD = "Harbor12345";

  /** A credentials Secret named {@code name} with the emulator's admin user, for a connection. */
  public static Secret adminCredentials(String name) {
    return new SecretBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withStringData(Map.of("username", ADMIN_USER, "password", ADMIN_PASSWORD))
        .build();
  }

  private final InMemoryKubernetes kubernetes;
  private final HarborEmulator harbor;
  private final OperatorRuntime operator;

  private Sandbox(InMemoryKubernetes kubernetes, HarborEmulator harbor, OperatorRuntime operator) {
    this.kubernetes = kubernetes;
    this.harbor = harbor;
    this.operator = operator;
  }

  /** Starts the in-memory API server, the emulator and the operator. */
  public static Sandbox start(OperatorConfig config) {
    InMemoryKubernetes kubernetes = InMemoryKubernetes.start();
    HarborEmulator harbor = HarborEmulator.start();
    harbor.setAdminCredentials(ADMIN_USER, ADMIN_PASSWORD);
    OperatorRuntime operator =
        OperatorRuntime.start(
            kubernetes.client(),
            servedBy(harbor, new OkHttpHarborClientFactory()),
            config,
            Clock.systemUTC());
    return new Sandbox(kubernetes, harbor, operator);
  }

  /** A client factory that sends every connection's requests to the emulator. */
  public static HarborClientFactory servedBy(HarborEmulator harbor, HarborClientFactory real) {
    return endpoint -> real.create(endpoint.at(harbor.baseUrl()));
  }

  public KubernetesClient client() {
    return kubernetes.client();
  }

  public HarborEmulator harbor() {
    return harbor;
  }

  /**
   * Keeps this sandbox's API server in line with a folder of manifests, admitting them as the real
   * API server would (schema and CEL rules of the CRDs); {@code log} hears what it does.
   */
  public FolderSync folderSync(Consumer<String> log) {
    return new FolderSync(client(), harbor, ManifestValidator.forPackagedCrds()::rejection, log);
  }

  public List<HarborRobot> robots() {
    return client().resources(HarborRobot.class).inAnyNamespace().list().getItems();
  }

  /** Whether every HarborRobot is Ready for its current generation. */
  public boolean allReady() {
    List<HarborRobot> robots = robots();
    return !robots.isEmpty() && robots.stream().allMatch(Sandbox::isReady);
  }

  static boolean isReady(HarborRobot robot) {
    return ready(robot)
        .map(
            c ->
                "True".equals(c.getStatus())
                    && Objects.equals(
                        c.getObservedGeneration(), robot.getMetadata().getGeneration()))
        .orElse(false);
  }

  private static Optional<Condition> ready(HarborRobot robot) {
    return robot.getStatus() == null
        ? Optional.empty()
        : robot.getStatus().getConditions().stream()
            .filter(c -> "Ready".equals(c.getType()))
            .findFirst();
  }

  /** kubectl-style tables of the robots, the Secrets they produced (masked) and the Events. */
  public String report() {
    return tables() + "\n" + eventsTable();
  }

  /** kubectl-style tables of the robots and of the Secrets they produced (secrets masked). */
  public String tables() {
    StringBuilder sb = new StringBuilder();
    List<List<String>> robotRows = new ArrayList<>();
    robotRows.add(List.of("NAMESPACE", "NAME", "PROJECT", "ROBOT", "READY", "REASON", "EXPIRES"));
    for (HarborRobot robot : sorted(robots())) {
      Optional<Condition> ready = ready(robot);
      robotRows.add(
          List.of(
              robot.getMetadata().getNamespace(),
              robot.getMetadata().getName(),
              robot.getSpec().getProject() == null ? "(system)" : robot.getSpec().getProject(),
              robot.getStatus() == null || robot.getStatus().getRobotName() == null
                  ? "-"
                  : robot.getStatus().getRobotName(),
              ready.map(Condition::getStatus).orElse("Unknown"),
              ready.map(Condition::getReason).orElse("-"),
              robot.getStatus() == null || robot.getStatus().getExpiresAt() == null
                  ? "never"
                  : robot.getStatus().getExpiresAt()));
    }
    sb.append("HarborRobots\n").append(table(robotRows));

    List<List<String>> secretRows = new ArrayList<>();
    secretRows.add(
        List.of("NAMESPACE", "NAME", "TYPE", "KEYS", "USERNAME", "PASSWORD", "REGISTRY LOGIN"));
    List<Secret> secrets =
        client()
            .secrets()
            .inAnyNamespace()
            .withLabel(CredentialSecrets.MANAGED_BY_LABEL, CredentialSecrets.MANAGED_BY_VALUE)
            .list()
            .getItems();
    for (Secret secret : sorted(secrets)) {
      Optional<CredentialSecrets.Credential> credential = CredentialSecrets.credential(secret);
      secretRows.add(
          List.of(
              secret.getMetadata().getNamespace(),
              secret.getMetadata().getName(),
              secret.getType(),
              secret.getData() == null
                  ? "-"
                  : String.join(",", new TreeSet<>(secret.getData().keySet())),
              credential.map(CredentialSecrets.Credential::username).orElse("-"),
              credential
                  .map(c -> "*".repeat(8) + " (" + c.password().length() + " chars)")
                  .orElse("-"),
              credential
                  .map(c -> harbor.credentialsWork(c.username(), c.password()) ? "ok" : "refused")
                  .orElse("-")));
    }
    sb.append("\nSecrets\n").append(table(secretRows));
    return sb.toString();
  }

  private String eventsTable() {
    StringBuilder sb = new StringBuilder();
    List<List<String>> eventRows = new ArrayList<>();
    eventRows.add(List.of("TYPE", "REASON", "OBJECT", "MESSAGE"));
    client().v1().events().inAnyNamespace().list().getItems().stream()
        .sorted(Comparator.comparing(e -> Objects.toString(e.getLastTimestamp(), "")))
        .forEach(
            e ->
                eventRows.add(
                    List.of(
                        e.getType(),
                        e.getReason(),
                        e.getInvolvedObject().getKind().toLowerCase()
                            + "/"
                            + e.getInvolvedObject().getName(),
                        e.getMessage())));
    sb.append("Events\n").append(table(eventRows));
    return sb.toString();
  }

  private static <T extends HasMetadata> List<T> sorted(List<T> objects) {
    return objects.stream()
        .sorted(
            Comparator.comparing((T o) -> o.getMetadata().getNamespace())
                .thenComparing(o -> o.getMetadata().getName()))
        .toList();
  }

  private static String table(List<List<String>> rows) {
    int columns = rows.get(0).size();
    int[] widths = new int[columns];
    for (List<String> row : rows) {
      for (int i = 0; i < columns; i++) {
        widths[i] = Math.max(widths[i], row.get(i).length());
      }
    }
    return rows.stream()
        .map(
            row -> {
              StringBuilder line = new StringBuilder();
              for (int i = 0; i < columns; i++) {
                line.append(
                    i == columns - 1
                        ? row.get(i)
                        : String.format("%-" + (widths[i] + 2) + "s", row.get(i)));
              }
              return line.toString().stripTrailing();
            })
        .collect(Collectors.joining("\n", "", "\n"));
  }

  /**
   * How the sandbox runs the operator: short periods, so that what a person breaks in Harbor is
   * seen and healed within seconds (production: 10 and 30 minutes).
   */
  public static final Duration NOTICE_WITHIN = Duration.ofSeconds(10);

  static OperatorConfig config() {
    return OperatorConfig.defaults()
        .withResyncPeriod(NOTICE_WITHIN)
        .withCredentialCheckPeriod(NOTICE_WITHIN)
        .withConnectionCheckPeriod(NOTICE_WITHIN)
        .withRetry(Duration.ofMillis(500), Duration.ofSeconds(10));
  }

  /**
   * The {@code sandbox} command: applies the folder, then either waits for every HarborRobot to be
   * Ready ({@code once}: exit code 0, else 1 with the reasons) or keeps the API server in line with
   * the folder, shows what happens and carries out the Harbor actions typed on {@code in}, until
   * {@code quit}.
   */
  public static int run(
      Path dir, boolean once, Duration timeout, boolean verbose, InputStream in, PrintStream out)
      throws InterruptedException {
    if (!verbose) {
      ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
          .setLevel(Level.WARN);
    }
    if (!Files.isDirectory(dir)) {
      out.printf("error: %s is not a folder of manifests%n", dir);
      return 2;
    }
    try (Sandbox sandbox = start(config())) {
      return run(sandbox, dir, once, timeout, in, out);
    }
  }

  /**
   * {@link #run(Path, boolean, Duration, boolean, InputStream, PrintStream)} in {@code sandbox}.
   */
  static int run(
      Sandbox sandbox, Path dir, boolean once, Duration timeout, InputStream in, PrintStream out)
      throws InterruptedException {
    ScheduledExecutorService timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread thread = new Thread(r, "sandbox-timer");
              thread.setDaemon(true);
              return thread;
            });
    try {
      SandboxConsole console = new SandboxConsole(sandbox, out, Clock.systemDefaultZone());
      out.printf("harbor-robot-operator sandbox%n");
      out.printf(
          "  Harbor emulator at %s (login %s / %s) serves every HarborConnection%n",
          sandbox.harbor.baseUrl(), ADMIN_USER, ADMIN_PASSWORD);
      out.printf("  applying the manifests of %s%n", dir);
      FolderSync sync = sandbox.folderSync(console::line);
      FolderSync.Result result = sync.sync(ManifestFolder.read(dir));
      if (once) {
        return once(sandbox, result, console, timeout, out);
      }
      out.printf(
          "%nWatching %s: add, edit or remove manifests and see the operator follow."
              + " Type help for Harbor actions, quit to stop.%n",
          dir);
      BlockingQueue<String> commands = readLines(in);
      HarborActions actions =
          new HarborActions(sandbox, console::line, console::tables, timer, NOTICE_WITHIN);
      String lastFailure = null;
      while (true) {
        String command = commands.poll(1, TimeUnit.SECONDS);
        if (command != null && !actions.handle(command)) {
          return 0;
        }
        try {
          sync.sync(ManifestFolder.read(dir));
          console.refresh();
          // the in-memory API server records every request; nobody reads them here
          sandbox.kubernetes.takeRequests();
          lastFailure = null;
        } catch (RuntimeException e) {
          // the folder went away for a moment, the API server refused a read: say so once and
          // carry on, as a GitOps controller does
          String failure = "error: " + e.getMessage();
          if (!failure.equals(lastFailure)) {
            console.line(failure);
          }
          lastFailure = failure;
        }
      }
    } finally {
      timer.shutdownNow();
    }
  }

  private static int once(
      Sandbox sandbox,
      FolderSync.Result result,
      SandboxConsole console,
      Duration timeout,
      PrintStream out)
      throws InterruptedException {
    Instant deadline = Instant.now().plus(timeout);
    while (!sandbox.allReady() && Instant.now().isBefore(deadline)) {
      Thread.sleep(200);
    }
    console.refresh();
    if (sandbox.allReady() && result.clean()) {
      out.printf("All %d HarborRobots are Ready.%n", sandbox.robots().size());
      return 0;
    }
    out.printf("Not everything is Ready after %ss:%n", timeout.toSeconds());
    if (sandbox.robots().isEmpty()) {
      out.printf("  no HarborRobot was applied from the folder%n");
    }
    for (HarborRobot robot : sandbox.robots()) {
      if (!isReady(robot)) {
        out.printf(
            "  %s/%s: %s%n",
            robot.getMetadata().getNamespace(),
            robot.getMetadata().getName(),
            ready(robot).map(c -> c.getReason() + ": " + c.getMessage()).orElse("no status yet"));
      }
    }
    result.problems().forEach(p -> out.printf("  %s%n", p));
    result.rejections().forEach(r -> out.printf("  %s%n", r));
    return 1;
  }

  /** The lines typed on {@code in}, read by a daemon thread; nothing more after end of input. */
  private static BlockingQueue<String> readLines(InputStream in) {
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader input =
                  new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line = input.readLine(); line != null; line = input.readLine()) {
                  lines.add(line);
                }
              } catch (IOException e) {
                // no more commands; the sandbox keeps watching the folder
              }
            },
            "sandbox-commands");
    reader.setDaemon(true);
    reader.start();
    return lines;
  }

  /** Events recorded so far, for tests. */
  public List<Event> events() {
    return client().v1().events().inAnyNamespace().list().getItems();
  }

  @Override
  public void close() {
    operator.close();
    harbor.close();
    kubernetes.close();
  }
}
