package io.harborrobot.operator.reconciler;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.harborrobot.operator.OperatorHarness;
import io.harborrobot.operator.TestClock;
import io.harborrobot.operator.TestRobots;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.HarborRobotStatus;
import io.harborrobot.operator.harbor.ClientSettings;
import io.harborrobot.operator.harbor.HarborClient;
import io.harborrobot.operator.harbor.HarborEndpoint;
import io.harborrobot.operator.harbor.HarborException;
import io.harborrobot.operator.harbor.OkHttpHarborClientFactory;
import io.harborrobot.operator.harbor.RobotSecret;
import io.harborrobot.operator.leaks.LeakWitness;
import io.harborrobot.operator.sandbox.EmulatedRobot;
import io.harborrobot.operator.sandbox.HarborEmulator;
import io.harborrobot.operator.sandbox.InMemoryKubernetes;
import io.harborrobot.operator.sandbox.Sandbox;
import io.harborrobot.operator.secret.CredentialSecrets;
import io.harborrobot.operator.secret.CredentialSecrets.Credential;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@link RobotSync} on its own, without JOSDK: one namespace and project ("team") in an in-memory
 * API server and a Harbor emulator, a clock that only moves when told, and a way to interrupt any
 * single step (a Harbor call or a Secret write), before or after it takes effect, as a crash or a
 * lost response would.
 */
final class SyncBench implements AutoCloseable {

  static final String TEAM = "team";
  static final Instant T0 = Instant.parse("2026-12-02T10:00:00Z");

  /** Where an interruption strikes: instead of the step, or right after it took effect. */
  enum When {
    BEFORE,
    AFTER
  }

  final TestClock clock = TestClock.fixed(T0);
  final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  final InMemoryKubernetes kubernetes = InMemoryKubernetes.start();
  final HarborEmulator harbor = HarborEmulator.start();
  final List<String> steps = new ArrayList<>();
  private final HarborClient client;
  static final Duration CHECK_PERIOD = Duration.ofMinutes(30);
  private CredentialChecks checks = new CredentialChecks(CHECK_PERIOD);
  private int interruptAt = -1;
  private When when;

  SyncBench() {
    harbor.setAdminCredentials(Sandbox.ADMIN_USER, Sandbox.ADMIN_PASSWORD);
    // Refused logins are part of several scenarios; Harbor's 1.5 s penalty would only slow them.
    harbor.setLoginLockout(Duration.ZERO);
    harbor.setLoginFailureDelay(Duration.ZERO);
    harbor.setClock(clock);
    harbor.createProject(TEAM);
    kube()
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(TEAM).endMetadata().build())
        .create();
    client =
        new OkHttpHarborClientFactory(
                ClientSettings.defaults()
                    .withRetry(OperatorHarness.FAST_RETRY)
                    .withLoginLockout(Duration.ZERO, Duration.ZERO),
                new SimpleMeterRegistry())
            .create(
                // No rate limit worth the name: these tests count steps, not requests per second.
                new HarborEndpoint(
                    "HarborConnection/team/harbor",
                    harbor.baseUrl(),
                    Sandbox.ADMIN_USER,
                    RobotSecret.of(Sandbox.ADMIN_PASSWORD),
                    null,
                    false,
                    10_000,
                    4));
  }

  KubernetesClient kube() {
    return kubernetes.client();
  }

  /** A pull robot stored in the API server (so it has a uid), adjusted by {@code adjust}. */
  HarborRobot robot(String name, Consumer<HarborRobot> adjust) {
    HarborRobot robot = TestRobots.pullRobot(TEAM, name);
    adjust.accept(robot);
    return kube().resource(robot).create();
  }

  /** Sets the rotate annotation on the stored resource and returns it (with its status). */
  HarborRobot requestRotation(HarborRobot robot, String value) {
    HarborRobot annotated =
        kube()
            .resources(HarborRobot.class)
            .inNamespace(TEAM)
            .withName(robot.getMetadata().getName())
            .edit(
                r -> {
                  r.getMetadata().getAnnotations().put(RotationPlan.ROTATE_ANNOTATION, value);
                  return r;
                });
    annotated.setStatus(robot.getStatus());
    return annotated;
  }

  /** The step number {@code n} (counted from 1 over Harbor calls and Secret writes) fails. */
  void interrupt(int n, When when) {
    this.interruptAt = n;
    this.when = when;
  }

  /**
   * One reconcile pass, as a freshly started operator would run it (no memory of earlier passes
   * besides the credential checks, which a restart would also redo). Records the steps taken.
   */
  RobotSync.Outcome sync(HarborRobot robot) {
    steps.clear();
    RobotSync sync =
        new RobotSync(
            new InterruptibleSecrets(),
            new EventRecorder(kube(), clock),
            new RobotMetrics(meters),
            checks,
            clock);
    RobotSync.Outcome outcome =
        sync.sync(robot, new HarborSession("HarborConnection/team/harbor", harbor(), host()));
    // What the reconciler then writes to the status, which later passes read.
    HarborRobotStatus status =
        robot.getStatus() == null ? new HarborRobotStatus() : robot.getStatus();
    status.setRobotId(outcome.robot().id());
    status.setRobotName(outcome.robot().name());
    status.setSecretName(robot.effectiveSecretName());
    robot.setStatus(status);
    return outcome;
  }

  /** When the credential of {@code robot} is next due for a check, if it is scheduled. */
  java.util.Optional<Instant> nextCheck(HarborRobot robot) {
    return checks.nextDue(robot.getMetadata().getUid());
  }

  /** Forgets what a running operator keeps in memory (the credential checks), as a restart does. */
  void restart() {
    checks = new CredentialChecks(CHECK_PERIOD);
  }

  /** Passes until one completes (at most {@code attempts}), as retries after a failure would. */
  RobotSync.Outcome converge(HarborRobot robot, int attempts) {
    RuntimeException last = null;
    for (int i = 0; i < attempts; i++) {
      try {
        return sync(robot);
      } catch (ReconcileProblem | HarborException | KubernetesClientException e) {
        last = e;
      }
    }
    throw new AssertionError("no pass completed in " + attempts + " attempts", last);
  }

  String host() {
    return harbor.registryHost();
  }

  Secret secret(String name) {
    return kube().secrets().inNamespace(TEAM).withName(name).get();
  }

  Credential credential(String secretName) {
    return CredentialSecrets.credential(secret(secretName)).orElseThrow();
  }

  /** Whether the credential in the Secret logs in to the emulator's registry right now. */
  boolean logsIn(String secretName) {
    Credential c = credential(secretName);
    return harbor.credentialsWork(c.username(), c.password());
  }

  List<EmulatedRobot> robotsNamed(String name) {
    return harbor.robots().stream()
        .filter(r -> TEAM.equals(r.project()) && r.storedName().equals(TEAM + "+" + name))
        .toList();
  }

  Map<String, String> annotations(String secretName) {
    return secret(secretName).getMetadata().getAnnotations();
  }

  double count(String meter, String tag, String value) {
    var counter = meters.find(meter).tag(tag, value).counter();
    return counter == null ? 0 : counter.count();
  }

  private void step(String name) {
    steps.add(name);
    if (steps.size() == interruptAt && when == When.BEFORE) {
      interruptAt = -1;
      throw interruption(name);
    }
  }

  private void after(String name) {
    if (steps.size() == interruptAt && when == When.AFTER) {
      interruptAt = -1;
      throw interruption(name);
    }
  }

  private static RuntimeException interruption(String step) {
    return step.startsWith("secret")
        ? new KubernetesClientException("interrupted at " + step)
        : new HarborException(
            HarborException.Kind.UNREACHABLE, 0, step, "interrupted", null, null, null);
  }

  /** The Harbor client, with every call a step that can be interrupted. */
  private HarborClient harbor() {
    return (HarborClient)
        Proxy.newProxyInstance(
            HarborClient.class.getClassLoader(),
            new Class<?>[] {HarborClient.class},
            (proxy, method, args) -> {
              if (method.getDeclaringClass() == Object.class) {
                return method.invoke(client, args);
              }
              step("harbor " + method.getName());
              Object result;
              try {
                result = method.invoke(client, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
              after("harbor " + method.getName());
              return result;
            });
  }

  /** The Secret store, with every write a step that can be interrupted. */
  private final class InterruptibleSecrets extends CredentialSecretStore {
    InterruptibleSecrets() {
      super(kube(), null);
    }

    @Override
    public Secret write(
        HarborRobot robot,
        Secret current,
        Credential credential,
        String pendingPassword,
        Map<String, String> marks) {
      step("secret write");
      Secret written = super.write(robot, current, credential, pendingPassword, marks);
      after("secret write");
      return written;
    }
  }

  @Override
  public void close() {
    // Its Events and Secret metadata are checked for leaked secrets, like every harness's.
    LeakWitness.snapshot(kube());
    harbor.close();
    kubernetes.close();
  }
}
