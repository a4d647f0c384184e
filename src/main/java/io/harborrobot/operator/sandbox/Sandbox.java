package io.harborrobot.operator.sandbox;

import ch.qos.logback.classic.Level;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.harborrobot.operator.api.v1alpha1.ClusterHarborConnection;
import io.harborrobot.operator.api.v1alpha1.Condition;
import io.harborrobot.operator.api.v1alpha1.HarborConnection;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.ProjectGrant;
import io.harborrobot.operator.config.OperatorConfig;
import io.harborrobot.operator.harbor.HarborClientFactory;
import io.harborrobot.operator.harbor.OkHttpHarborClientFactory;
import io.harborrobot.operator.ops.OperatorRuntime;
import io.harborrobot.operator.secret.CredentialSecrets;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
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
import java.util.stream.Collectors;
import java.util.stream.Stream;
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

  /** The manifests of a folder (*.yaml, *.yml; several documents per file), in file order. */
  public static List<HasMetadata> load(Path dir) {
    try (Stream<Path> files = Files.list(dir)) {
      List<HasMetadata> objects = new ArrayList<>();
      for (Path file :
          files
              .filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml"))
              .sorted()
              .toList()) {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        for (String document : text.split("(?m)^---\\s*$")) {
          if (document.lines().allMatch(l -> l.isBlank() || l.trim().startsWith("#"))) {
            continue;
          }
          objects.add(parse(file, document));
        }
      }
      return objects;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read manifests from " + dir, e);
    }
  }

  /** Kinds the in-memory API server stores as they are; nothing runs them (no pods start). */
  private static final Map<String, Class<? extends HasMetadata>> KINDS =
      Map.of(
          "HarborRobot", HarborRobot.class,
          "HarborConnection", HarborConnection.class,
          "ClusterHarborConnection", ClusterHarborConnection.class,
          "Secret", Secret.class,
          "ServiceAccount", ServiceAccount.class,
          "Deployment", Deployment.class,
          "Namespace", Namespace.class);

  private static HasMetadata parse(Path file, String document) {
    Map<?, ?> raw = Serialization.unmarshal(document, Map.class);
    Object kind = raw == null ? null : raw.get("kind");
    Class<? extends HasMetadata> type = KINDS.get(String.valueOf(kind));
    if (type == null) {
      throw new IllegalArgumentException(
          file
              + ": kind "
              + kind
              + " is not supported by the sandbox ("
              + String.join(", ", new TreeSet<>(KINDS.keySet()))
              + ")");
    }
    HasMetadata object = Serialization.unmarshal(document, type);
    boolean clusterScoped =
        object instanceof Namespace || object instanceof ClusterHarborConnection;
    if (object.getMetadata().getNamespace() == null && !clusterScoped) {
      object.getMetadata().setNamespace("default");
    }
    return object;
  }

  /** Creates every project the manifests' HarborRobots name, then applies the manifests. */
  public void apply(List<HasMetadata> manifests, PrintStream out) {
    new TreeSet<>(
            manifests.stream()
                .filter(HarborRobot.class::isInstance)
                .flatMap(o -> projectsOf((HarborRobot) o))
                .filter(Objects::nonNull)
                .filter(name -> !name.equals("*"))
                .toList())
        .forEach(harbor::createProject);
    for (HasMetadata object : manifests) {
      client().resource(object).createOr(NonDeletingOperation::update);
      out.printf(
          "  applied %s/%s in namespace %s%n",
          object.getKind().toLowerCase(),
          object.getMetadata().getName(),
          object.getMetadata().getNamespace());
    }
  }

  /** The Harbor projects a HarborRobot names: its project, or a system robot's grants. */
  private static Stream<String> projectsOf(HarborRobot robot) {
    if (robot.getSpec().getProjects() != null) {
      return robot.getSpec().getProjects().stream().map(ProjectGrant::getName);
    }
    return Stream.of(robot.getSpec().getProject());
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
            .withLabel(CredentialSecrets.MANAGED_BY_LABEL)
            .list()
            .getItems();
    for (Secret secret : sorted(secrets)) {
      Optional<CredentialSecrets.Credential> credential = CredentialSecrets.credential(secret);
      secretRows.add(
          List.of(
              secret.getMetadata().getNamespace(),
              secret.getMetadata().getName(),
              secret.getType(),
              String.join(",", new TreeSet<>(secret.getData().keySet())),
              credential.map(CredentialSecrets.Credential::username).orElse("-"),
              credential
                  .map(c -> "*".repeat(8) + " (" + c.password().length() + " chars)")
                  .orElse("-"),
              credential
                  .map(c -> harbor.credentialsWork(c.username(), c.password()) ? "ok" : "refused")
                  .orElse("-")));
    }
    sb.append("\nSecrets\n").append(table(secretRows));

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
    sb.append("\nEvents\n").append(table(eventRows));
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

  /** The {@code sandbox} command. */
  public static int run(Path dir, boolean once, Duration timeout, boolean verbose, PrintStream out)
      throws InterruptedException {
    if (!verbose) {
      ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
          .setLevel(Level.WARN);
    }
    List<HasMetadata> manifests = load(dir);
    OperatorConfig config =
        OperatorConfig.defaults()
            .withResyncPeriod(Duration.ofSeconds(30))
            .withRetry(Duration.ofMillis(500), Duration.ofSeconds(10));
    try (Sandbox sandbox = start(config)) {
      out.printf("harbor-robot-operator sandbox%n");
      out.printf(
          "  Harbor emulator at %s (login %s / %s) serves every HarborConnection%n",
          sandbox.harbor.baseUrl(), ADMIN_USER, ADMIN_PASSWORD);
      out.printf("  applying %d manifests from %s%n", manifests.size(), dir);
      sandbox.apply(manifests, out);
      Instant deadline = Instant.now().plus(timeout);
      if (once) {
        while (!sandbox.allReady() && Instant.now().isBefore(deadline)) {
          Thread.sleep(200);
        }
        out.println();
        out.print(sandbox.report());
        if (sandbox.allReady()) {
          out.printf("%nAll %d HarborRobots are Ready.%n", sandbox.robots().size());
          return 0;
        }
        out.printf("%nNot every HarborRobot is Ready after %s:%n", timeout);
        for (HarborRobot robot : sandbox.robots()) {
          if (!isReady(robot)) {
            out.printf(
                "  %s/%s: %s%n",
                robot.getMetadata().getNamespace(),
                robot.getMetadata().getName(),
                ready(robot)
                    .map(c -> c.getReason() + ": " + c.getMessage())
                    .orElse("no status yet"));
          }
        }
        return 1;
      }
      String last = "";
      out.println("Watching; press Ctrl-C to stop.");
      while (true) {
        String report = sandbox.report();
        if (!report.equals(last)) {
          out.println();
          out.print(report);
          last = report;
        }
        Thread.sleep(2000);
      }
    }
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
