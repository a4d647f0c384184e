package io.harborrobot.operator.deploy;

import static io.harborrobot.operator.deploy.RbacManifestsTest.OPERATOR_ACCOUNT;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.WeightedPodAffinityTerm;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.harborrobot.operator.Main;
import io.harborrobot.operator.deploy.RbacManifestsTest.Doc;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The workload manifests of {@code deploy/} (namespace, Deployment, metrics Service), parsed with
 * fabric8 as the API server would read them, against the contract of the operator binary and its
 * image: a restricted security context, resources, probes on the endpoints the operator serves,
 * leader election with the Lease's namespace from the downward API, only environment variables the
 * operator reads, the ServiceAccount the RBAC files bind, and the image the build produces.
 *
 * <p>Each check returns what it found wrong, so that {@link #theChecksCatchABrokenDeployment} can
 * show them failing.
 */
public class DeployManifestsTest {

  private static final Map<String, String> STANDARD_LABELS =
      Map.of(
          "app.kubernetes.io/name", "harbor-robot-operator",
          "app.kubernetes.io/component", "operator",
          "app.kubernetes.io/part-of", "harbor-robot-operator");

  /**
   * Read by the operator outside picocli's options: logback, the Lease's identity and namespace.
   */
  private static final Set<String> READ_ELSEWHERE =
      Set.of("LOG_LEVEL", "HOSTNAME", "POD_NAMESPACE", "JAVA_TOOL_OPTIONS");

  private static final Pattern ENV_DEFAULT =
      Pattern.compile("\\$\\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^$}]*))?");

  private static List<Doc> all;
  private static Namespace namespace;
  private static Deployment deployment;
  private static Service service;

  @BeforeAll
  static void loadDeployFolder() throws Exception {
    all = RbacManifestsTest.load(RbacManifestsTest.DEPLOY);
    namespace = only(Namespace.class, "namespace.yaml");
    deployment = only(Deployment.class, "deployment.yaml");
    service = only(Service.class, "service.yaml");
  }

  @Test
  void theWorkloadLivesInTheOperatorsNamespaceAndUsesOnlyFieldsKubernetesKnows() {
    String ns = namespace.getMetadata().getName();
    assertThat(ns).isEqualTo(RbacManifestsTest.OPERATOR);
    assertThat(deployment.getMetadata().getNamespace()).isEqualTo(ns);
    assertThat(service.getMetadata().getNamespace()).isEqualTo(ns);
    // the restricted Pod Security Standard, which the pods meet (checked below)
    assertThat(namespace.getMetadata().getLabels())
        .containsEntry("pod-security.kubernetes.io/enforce", "restricted");
    // a misspelt field (readOnlyRootFileSystem) would be dropped without a word by the API server
    List<String> unknown = new ArrayList<>();
    all.forEach(d -> unknownFields(d.resource(), d.describe(), unknown));
    assertThat(unknown).isEmpty();
  }

  @Test
  void everyObjectCarriesTheStandardLabels() {
    assertThat(all).isNotEmpty();
    assertThat(all)
        .allSatisfy(
            d ->
                assertThat(d.resource().getMetadata().getLabels())
                    .as(d.describe())
                    .containsAllEntriesOf(STANDARD_LABELS));
    assertThat(deployment.getSpec().getTemplate().getMetadata().getLabels())
        .as("pod labels")
        .containsAllEntriesOf(STANDARD_LABELS);
  }

  @Test
  void thePodRunsAsTheImagesNonRootUserWithRuntimeDefaultSeccomp() throws Exception {
    assertThat(podSecurityProblems(deployment)).isEmpty();
    PodSecurityContext pod = deployment.getSpec().getTemplate().getSpec().getSecurityContext();
    assertThat(pod.getRunAsUser() + ":" + pod.getRunAsGroup())
        .isEqualTo(ImageDefinitionTest.dockerfileUser())
        .isEqualTo(ImageDefinitionTest.NONROOT);
  }

  @Test
  void everyContainerIsUnprivilegedOnAReadOnlyRootFilesystem() {
    assertThat(containerSecurityProblems(deployment)).isEmpty();
  }

  @Test
  void cpuAndMemoryAreRequestedAndMemoryIsLimited() {
    assertThat(resourceProblems(deployment)).isEmpty();
    ResourceRequirements resources = container(deployment).getResources();
    assertThat(resources.getRequests())
        .containsEntry("cpu", new Quantity("100m"))
        .containsEntry("memory", new Quantity("256Mi"));
    assertThat(resources.getLimits()).containsEntry("memory", new Quantity("512Mi"));
  }

  @Test
  void probesAskHealthzAndReadyzOnTheMetricsPort() throws Exception {
    assertThat(probeProblems(deployment, defaultMetricsPort())).isEmpty();
  }

  @Test
  void tmpIsAnEmptyDir() {
    assertThat(tmpProblems(deployment)).isEmpty();
  }

  @Test
  void twoReplicasElectALeaderWithTheLeaseInTheirOwnNamespace() {
    assertThat(leaderElectionProblems(deployment)).isEmpty();
    // which both RBAC files allow there
    String ns = deployment.getMetadata().getNamespace();
    for (String file : List.of("rbac.yaml", "rbac-namespaced.yaml")) {
      List<Doc> rbac = all.stream().filter(d -> d.file().equals(file)).toList();
      assertThat(RbacManifestsTest.grants(rbac, OPERATOR_ACCOUNT, ns))
          .as("%s in namespace %s", file, ns)
          .containsEntry("leases.coordination.k8s.io", Set.of("create", "get", "update", "patch"));
    }
  }

  @Test
  void thePodRunsAsTheServiceAccountTheRbacFilesBind() {
    PodSpec pod = deployment.getSpec().getTemplate().getSpec();
    assertThat(pod.getServiceAccountName()).isEqualTo(OPERATOR_ACCOUNT.name());
    assertThat(deployment.getMetadata().getNamespace()).isEqualTo(OPERATOR_ACCOUNT.namespace());
    assertThat(pod.getAutomountServiceAccountToken()).isTrue();
    for (String file : List.of("rbac.yaml", "rbac-namespaced.yaml")) {
      List<ServiceAccount> accounts =
          all.stream()
              .filter(d -> d.file().equals(file))
              .map(Doc::resource)
              .filter(ServiceAccount.class::isInstance)
              .map(ServiceAccount.class::cast)
              .toList();
      assertThat(accounts).as(file).hasSize(1);
      assertThat(accounts.get(0).getMetadata().getName()).isEqualTo(pod.getServiceAccountName());
      assertThat(accounts.get(0).getMetadata().getNamespace())
          .isEqualTo(deployment.getMetadata().getNamespace());
      assertThat(accounts.get(0).getAutomountServiceAccountToken()).isNotEqualTo(Boolean.FALSE);
    }
  }

  @Test
  void theMetricsServiceSelectsThePodsAndTargetsTheirHttpPort() {
    assertThat(serviceProblems(service, deployment)).isEmpty();
    assertThat(service.getSpec().getType()).isEqualTo("ClusterIP");
  }

  @Test
  void theReplicasPreferDifferentNodes() {
    var antiAffinity =
        deployment.getSpec().getTemplate().getSpec().getAffinity().getPodAntiAffinity();
    List<WeightedPodAffinityTerm> preferred =
        antiAffinity.getPreferredDuringSchedulingIgnoredDuringExecution();
    assertThat(preferred).isNotEmpty();
    Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
    assertThat(preferred)
        .anySatisfy(
            term -> {
              assertThat(term.getPodAffinityTerm().getTopologyKey())
                  .isEqualTo("kubernetes.io/hostname");
              assertThat(podLabels)
                  .containsAllEntriesOf(
                      term.getPodAffinityTerm().getLabelSelector().getMatchLabels());
            });
  }

  /**
   * An environment variable the operator does not read is a setting that silently does nothing.
   * What {@code run} reads comes from its picocli model; the variables deployment.yaml and
   * README.md document must be among them.
   */
  @Test
  void everyEnvironmentVariableIsOneTheOperatorReads() throws Exception {
    Set<String> read = environmentReadByRun();
    assertThat(read)
        .contains(
            "WATCH_NAMESPACES",
            "ROBOT_SELECTOR",
            "RESYNC_PERIOD",
            "CREDENTIAL_CHECK_PERIOD",
            "CONNECTION_CHECK_PERIOD",
            "METRICS_PORT",
            "LEADER_ELECTION",
            "LEASE_NAME",
            "LEASE_NAMESPACE",
            "LEASE_DURATION",
            "LOG_FORMAT");
    assertThat(environmentProblems(deployment, read)).isEmpty();
  }

  @Test
  void theImageIsThePomsRepositoryAtThePomsVersion() throws Exception {
    assertThat(
            imageProblems(
                deployment,
                ImageDefinitionTest.buildProperty("image.repository"),
                ImageDefinitionTest.buildProperty("project.version")))
        .isEmpty();
  }

  /** The checks above must be able to fail: a Deployment that breaks each one is caught. */
  @Test
  void theChecksCatchABrokenDeployment() {
    List<Doc> bad =
        RbacManifestsTest.parse(
            "bad.yaml",
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: bad, namespace: harbor-robot-operator}
            spec:
              replicas: 1
              selector: {matchLabels: {app: bad}}
              template:
                metadata: {labels: {app: other}}
                spec:
                  securityContext: {runAsUser: 0}
                  containers:
                    - name: operator
                      image: ghcr.io/harborrobot/harbor-robot-operator:latest
                      env:
                        - {name: WATCH_NAMESPACE, value: team-a}
                        - {name: LEADER_ELECTION, value: "false"}
                        - {name: POD_NAMESPACE, value: harbor-robot-operator}
                      ports: [{name: metrics, containerPort: 9090}]
                      livenessProbe: {httpGet: {path: /metrics, port: 9090}}
                      resources: {limits: {cpu: "1", memory: 128Mi}, requests: {memory: 256Mi}}
                      securityContext:
                        privileged: true
                        readOnlyRootFileSystem: true
                        capabilities: {add: [NET_ADMIN], drop: [NET_RAW]}
                      volumeMounts: [{name: tmp, mountPath: /tmp}]
                  volumes: [{name: tmp, hostPath: {path: /tmp}}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: bad, namespace: harbor-robot-operator}
            spec:
              selector: {app: bad}
              ports: [{name: http, port: 8080, targetPort: 8080}]
            """);
    Deployment d = (Deployment) bad.get(0).resource();
    Service s = (Service) bad.get(1).resource();

    assertThat(podSecurityProblems(d))
        .anyMatch(p -> p.contains("runAsNonRoot"))
        .anyMatch(p -> p.contains("runAsUser 0"))
        .anyMatch(p -> p.contains("seccomp"));
    assertThat(containerSecurityProblems(d))
        .anyMatch(p -> p.contains("privileged"))
        .anyMatch(p -> p.contains("readOnlyRootFilesystem"))
        .anyMatch(p -> p.contains("allowPrivilegeEscalation"))
        .anyMatch(p -> p.contains("drops [NET_RAW]"))
        .anyMatch(p -> p.contains("adds [NET_ADMIN]"));
    List<String> unknown = new ArrayList<>();
    unknownFields(d, "bad", unknown);
    assertThat(unknown).anyMatch(p -> p.contains("readOnlyRootFileSystem"));
    assertThat(resourceProblems(d))
        .anyMatch(p -> p.contains("no cpu request"))
        .anyMatch(p -> p.contains("memory limit 128Mi below its request 256Mi"))
        .anyMatch(p -> p.contains("CPU limit"));
    assertThat(probeProblems(d, 8080))
        .anyMatch(p -> p.contains("no port named http"))
        .anyMatch(p -> p.contains("liveness"))
        .anyMatch(p -> p.contains("has no readiness probe"));
    assertThat(tmpProblems(d)).anyMatch(p -> p.contains("not an emptyDir"));
    assertThat(leaderElectionProblems(d))
        .anyMatch(p -> p.contains("replicas"))
        .anyMatch(p -> p.contains("LEADER_ELECTION"))
        .anyMatch(p -> p.contains("POD_NAMESPACE"));
    assertThat(
            environmentProblems(d, Set.of("WATCH_NAMESPACES", "LEADER_ELECTION", "POD_NAMESPACE")))
        .containsExactly("sets WATCH_NAMESPACE, which the operator does not read");
    assertThat(serviceProblems(s, d))
        .anyMatch(p -> p.contains("selects no pod"))
        .anyMatch(p -> p.contains("targetPort"));
    assertThat(imageProblems(d, "ghcr.io/harborrobot/harbor-robot-operator", "0.1.0-SNAPSHOT"))
        .containsExactly(
            "image ghcr.io/harborrobot/harbor-robot-operator:latest is not"
                + " ghcr.io/harborrobot/harbor-robot-operator:0.1.0-SNAPSHOT");
  }

  // --- the checks, each returning what it found wrong ---------------------------------------

  static List<String> podSecurityProblems(Deployment d) {
    List<String> problems = new ArrayList<>();
    PodSpec pod = d.getSpec().getTemplate().getSpec();
    PodSecurityContext sc = pod.getSecurityContext();
    if (sc == null) {
      return List.of("the pod has no securityContext");
    }
    if (!Boolean.TRUE.equals(sc.getRunAsNonRoot())) {
      problems.add("the pod does not set runAsNonRoot: true");
    }
    if (sc.getRunAsUser() == null || sc.getRunAsUser() == 0) {
      problems.add("the pod's runAsUser " + sc.getRunAsUser() + " is not a non-root uid");
    }
    if (sc.getRunAsGroup() == null || sc.getRunAsGroup() == 0) {
      problems.add("the pod's runAsGroup " + sc.getRunAsGroup() + " is not a non-root gid");
    }
    if (sc.getSeccompProfile() == null
        || !"RuntimeDefault".equals(sc.getSeccompProfile().getType())) {
      problems.add("the pod's seccomp profile is not RuntimeDefault");
    }
    if (Boolean.TRUE.equals(pod.getHostNetwork())
        || Boolean.TRUE.equals(pod.getHostPID())
        || Boolean.TRUE.equals(pod.getHostIPC())) {
      problems.add("the pod shares a namespace of the host");
    }
    return problems;
  }

  static List<String> containerSecurityProblems(Deployment d) {
    List<String> problems = new ArrayList<>();
    for (Container c : containers(d)) {
      String name = "container " + c.getName();
      SecurityContext sc = c.getSecurityContext();
      if (sc == null) {
        problems.add(name + " has no securityContext");
        continue;
      }
      if (!Boolean.FALSE.equals(sc.getAllowPrivilegeEscalation())) {
        problems.add(name + " does not set allowPrivilegeEscalation: false");
      }
      if (!Boolean.TRUE.equals(sc.getReadOnlyRootFilesystem())) {
        problems.add(name + " does not set readOnlyRootFilesystem: true");
      }
      if (!Boolean.FALSE.equals(sc.getPrivileged())) {
        problems.add(name + " does not set privileged: false");
      }
      Capabilities caps = sc.getCapabilities();
      List<String> drop = caps == null || caps.getDrop() == null ? List.of() : caps.getDrop();
      List<String> add = caps == null || caps.getAdd() == null ? List.of() : caps.getAdd();
      if (!drop.equals(List.of("ALL"))) {
        problems.add(name + " drops " + drop + ", not [ALL]");
      }
      if (!add.isEmpty()) {
        problems.add(name + " adds " + add);
      }
      // the pod-level settings may not be overridden per container
      if (sc.getRunAsUser() != null
          || sc.getRunAsNonRoot() != null
          || sc.getSeccompProfile() != null) {
        problems.add(name + " overrides the pod's user or seccomp profile");
      }
    }
    return problems;
  }

  static List<String> resourceProblems(Deployment d) {
    List<String> problems = new ArrayList<>();
    for (Container c : containers(d)) {
      String name = "container " + c.getName();
      ResourceRequirements r = c.getResources();
      Map<String, Quantity> requests =
          r == null || r.getRequests() == null ? Map.of() : r.getRequests();
      Map<String, Quantity> limits = r == null || r.getLimits() == null ? Map.of() : r.getLimits();
      for (String resource : List.of("cpu", "memory")) {
        if (!requests.containsKey(resource)) {
          problems.add(name + " has no " + resource + " request");
        }
      }
      Quantity memory = limits.get("memory");
      if (memory == null) {
        problems.add(name + " has no memory limit");
      } else if (requests.containsKey("memory")
          && memory.getNumericalAmount().compareTo(requests.get("memory").getNumericalAmount())
              < 0) {
        problems.add(
            name
                + " has its memory limit "
                + memory
                + " below its request "
                + requests.get("memory"));
      }
      // deliberate (see deployment.yaml): CFS throttling slows the JVM's start-up and GC
      if (limits.containsKey("cpu")) {
        problems.add(name + " has a CPU limit");
      }
    }
    return problems;
  }

  /** Probes on the named port {@code http}, which is the operator's metrics port. */
  static List<String> probeProblems(Deployment d, int metricsPort) {
    List<String> problems = new ArrayList<>();
    Container c = container(d);
    String name = "container " + c.getName();
    List<ContainerPort> http =
        orEmpty(c.getPorts()).stream().filter(p -> "http".equals(p.getName())).toList();
    if (http.size() != 1) {
      problems.add(name + " has no port named http");
    } else if (http.get(0).getContainerPort() != portOfTheOperator(c, metricsPort)) {
      problems.add(
          name
              + " names port "
              + http.get(0).getContainerPort()
              + " http, but the operator serves on "
              + portOfTheOperator(c, metricsPort));
    }
    problems.addAll(httpGetProblems(name, "liveness", c.getLivenessProbe(), "/healthz"));
    problems.addAll(httpGetProblems(name, "readiness", c.getReadinessProbe(), "/readyz"));
    if (c.getStartupProbe() != null) {
      problems.addAll(httpGetProblems(name, "startup", c.getStartupProbe(), "/healthz"));
    }
    // start-up takes some 10 to 20 s (informers): liveness must not kill it before 30 s
    Probe first = c.getStartupProbe() != null ? c.getStartupProbe() : c.getLivenessProbe();
    if (first != null && patience(first) < 30) {
      problems.add(name + " may be restarted " + patience(first) + " s after it starts");
    }
    return problems;
  }

  static List<String> tmpProblems(Deployment d) {
    List<String> problems = new ArrayList<>();
    Container c = container(d);
    List<VolumeMount> tmp =
        orEmpty(c.getVolumeMounts()).stream().filter(m -> "/tmp".equals(m.getMountPath())).toList();
    if (tmp.size() != 1) {
      return List.of("container " + c.getName() + " mounts nothing at /tmp");
    }
    if (Boolean.TRUE.equals(tmp.get(0).getReadOnly())) {
      problems.add("/tmp is mounted read-only");
    }
    Volume volume =
        orEmpty(d.getSpec().getTemplate().getSpec().getVolumes()).stream()
            .filter(v -> v.getName().equals(tmp.get(0).getName()))
            .findFirst()
            .orElse(null);
    if (volume == null || volume.getEmptyDir() == null) {
      problems.add("the volume at /tmp is not an emptyDir");
    }
    return problems;
  }

  static List<String> leaderElectionProblems(Deployment d) {
    List<String> problems = new ArrayList<>();
    Integer replicas = d.getSpec().getReplicas();
    if (replicas == null || replicas < 2) {
      problems.add("replicas " + replicas + ": no standby to take over");
    }
    Map<String, EnvVar> env = env(container(d));
    EnvVar election = env.get("LEADER_ELECTION");
    if (election == null || !"true".equals(election.getValue())) {
      problems.add("LEADER_ELECTION is not \"true\": two replicas would both reconcile");
    }
    EnvVar podNamespace = env.get("POD_NAMESPACE");
    if (podNamespace == null
        || podNamespace.getValueFrom() == null
        || podNamespace.getValueFrom().getFieldRef() == null
        || !"metadata.namespace".equals(podNamespace.getValueFrom().getFieldRef().getFieldPath())) {
      problems.add("POD_NAMESPACE does not come from the downward API (metadata.namespace)");
    }
    if (env.containsKey("LEASE_NAMESPACE")) {
      problems.add("LEASE_NAMESPACE is set: the Lease belongs in the pod's namespace");
    }
    return problems;
  }

  static List<String> environmentProblems(Deployment d, Set<String> read) {
    List<String> problems = new ArrayList<>();
    for (Container c : containers(d)) {
      for (EnvVar e : orEmpty(c.getEnv())) {
        if (!read.contains(e.getName())) {
          problems.add("sets " + e.getName() + ", which the operator does not read");
        }
      }
      if (c.getEnvFrom() != null && !c.getEnvFrom().isEmpty()) {
        problems.add("container " + c.getName() + " takes envFrom, which cannot be checked");
      }
    }
    return problems;
  }

  static List<String> serviceProblems(Service s, Deployment d) {
    List<String> problems = new ArrayList<>();
    Map<String, String> podLabels = d.getSpec().getTemplate().getMetadata().getLabels();
    Map<String, String> matchLabels = d.getSpec().getSelector().getMatchLabels();
    if (podLabels == null || !podLabels.entrySet().containsAll(matchLabels.entrySet())) {
      problems.add("the Deployment's selector selects no pod of its template");
    }
    Map<String, String> selector = s.getSpec().getSelector();
    if (selector == null
        || selector.isEmpty()
        || podLabels == null
        || !podLabels.entrySet().containsAll(selector.entrySet())) {
      problems.add("Service " + s.getMetadata().getName() + " selects no pod of the Deployment");
    } else if (!selector.equals(matchLabels)) {
      problems.add(
          "Service " + s.getMetadata().getName() + " selects other pods than the Deployment");
    }
    if (!Objects.equals(s.getMetadata().getNamespace(), d.getMetadata().getNamespace())) {
      problems.add("Service " + s.getMetadata().getName() + " is in another namespace");
    }
    List<ServicePort> ports = orEmpty(s.getSpec().getPorts());
    if (ports.isEmpty()) {
      problems.add("Service " + s.getMetadata().getName() + " has no port");
    }
    for (ServicePort port : ports) {
      if (port.getTargetPort() == null || !"http".equals(port.getTargetPort().getStrVal())) {
        problems.add(
            "port " + port.getName() + " has targetPort " + port.getTargetPort() + ", not http");
      }
      if (!"http".equals(port.getName())) {
        problems.add("port " + port.getName() + " is not named http (ServiceMonitors name it)");
      }
    }
    return problems;
  }

  static List<String> imageProblems(Deployment d, String repository, String version) {
    List<String> problems = new ArrayList<>();
    for (Container c : containers(d)) {
      String expected = repository + ":" + version;
      if (!expected.equals(c.getImage())) {
        problems.add("image " + c.getImage() + " is not " + expected);
      }
    }
    return problems;
  }

  // --- the operator's command line ---------------------------------------------------------

  /**
   * The environment variables {@code run} reads: those named in its options' default values ({@code
   * ${env:NAME:-default}}), read from the picocli model of {@code Main}, and those the operator
   * reads elsewhere.
   */
  static Set<String> environmentReadByRun() throws Exception {
    Set<String> names = new TreeSet<>(READ_ELSEWHERE);
    for (OptionSpec option : runOptions()) {
      Matcher m = ENV_DEFAULT.matcher(Objects.toString(option.defaultValue(), ""));
      while (m.find()) {
        names.add(m.group(1));
      }
    }
    return names;
  }

  /**
   * The default of {@code --metrics-port}: the fallback of its {@code ${env:METRICS_PORT:-...}}.
   */
  static int defaultMetricsPort() throws Exception {
    OptionSpec port =
        runOptions().stream()
            .filter(o -> List.of(o.names()).contains("--metrics-port"))
            .findFirst()
            .orElse(null);
    assertThat(port).as("run --metrics-port").isNotNull();
    Matcher m = ENV_DEFAULT.matcher(port.defaultValue());
    assertThat(m.find()).as("--metrics-port default %s", port.defaultValue()).isTrue();
    assertThat(m.group(1)).isEqualTo("METRICS_PORT");
    return Integer.parseInt(m.group(2));
  }

  /** The options of {@code run}, defaults not interpolated (no environment variable read). */
  private static List<OptionSpec> runOptions() throws Exception {
    Method commandLine = Main.class.getDeclaredMethod("commandLine");
    commandLine.setAccessible(true);
    CommandLine root;
    try {
      root = (CommandLine) commandLine.invoke(null);
    } catch (InvocationTargetException e) {
      throw new AssertionError("Main.commandLine() failed", e.getCause());
    }
    CommandLine run = root.getSubcommands().get("run");
    assertThat(run).as("the run command").isNotNull();
    run.setInterpolateVariables(false);
    return run.getCommandSpec().options();
  }

  // --- helpers ------------------------------------------------------------------------------

  private static <T extends HasMetadata> T only(Class<T> kind, String file) {
    List<HasMetadata> found = all.stream().map(Doc::resource).filter(kind::isInstance).toList();
    assertThat(found).as("%s documents in deploy/", kind.getSimpleName()).hasSize(1);
    assertThat(
            all.stream().filter(d -> d.resource() == found.get(0)).findFirst().orElseThrow().file())
        .isEqualTo(file);
    return kind.cast(found.get(0));
  }

  private static List<Container> containers(Deployment d) {
    PodSpec pod = d.getSpec().getTemplate().getSpec();
    return Stream.concat(
            orEmpty(pod.getInitContainers()).stream(), orEmpty(pod.getContainers()).stream())
        .toList();
  }

  /** The operator's container: the only one. */
  private static Container container(Deployment d) {
    List<Container> containers = orEmpty(d.getSpec().getTemplate().getSpec().getContainers());
    assertThat(containers).as("containers of %s", d.getMetadata().getName()).hasSize(1);
    return containers.get(0);
  }

  private static Map<String, EnvVar> env(Container c) {
    Map<String, EnvVar> env = new LinkedHashMap<>();
    orEmpty(c.getEnv()).forEach(e -> env.put(e.getName(), e));
    return env;
  }

  /** The port the operator serves on in this container: METRICS_PORT if set, else its default. */
  private static int portOfTheOperator(Container c, int defaultPort) {
    EnvVar port = env(c).get("METRICS_PORT");
    return port == null || port.getValue() == null
        ? defaultPort
        : Integer.parseInt(port.getValue());
  }

  private static List<String> httpGetProblems(
      String container, String kind, Probe probe, String path) {
    if (probe == null) {
      return List.of(container + " has no " + kind + " probe");
    }
    String what = container + " " + kind + " probe";
    List<String> problems = new ArrayList<>();
    if (probe.getHttpGet() == null) {
      return List.of(what + " is not an HTTP GET");
    }
    if (!path.equals(probe.getHttpGet().getPath())) {
      problems.add(what + " asks " + probe.getHttpGet().getPath() + ", not " + path);
    }
    if (probe.getHttpGet().getPort() == null
        || !"http".equals(probe.getHttpGet().getPort().getStrVal())) {
      problems.add(what + " is not on the port named http");
    }
    return problems;
  }

  /** Seconds from the container's start until this probe can have failed for good. */
  private static int patience(Probe p) {
    int initial = p.getInitialDelaySeconds() == null ? 0 : p.getInitialDelaySeconds();
    int period = p.getPeriodSeconds() == null ? 10 : p.getPeriodSeconds();
    int failures = p.getFailureThreshold() == null ? 3 : p.getFailureThreshold();
    return initial + period * failures;
  }

  /**
   * Adds a problem for every fabric8 model object under {@code node} that holds fields its class
   * does not know (kept in {@code additionalProperties}, ignored by the API server).
   */
  public static void unknownFields(Object node, String path, List<String> problems) {
    if (node == null || node instanceof GenericKubernetesResource) {
      return;
    }
    if (node instanceof Collection<?> items) {
      int i = 0;
      for (Object item : items) {
        unknownFields(item, path + "[" + i++ + "]", problems);
      }
      return;
    }
    if (node instanceof Map<?, ?> map) {
      map.forEach((k, v) -> unknownFields(v, path + "." + k, problems));
      return;
    }
    if (!node.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
      return;
    }
    for (Method getter : node.getClass().getMethods()) {
      if (getter.getParameterCount() != 0
          || !getter.getName().startsWith("get")
          || getter.getDeclaringClass() == Object.class
          || Modifier.isStatic(getter.getModifiers())) {
        continue;
      }
      Object value;
      try {
        value = getter.invoke(node);
      } catch (ReflectiveOperationException e) {
        throw new AssertionError(path + "." + getter.getName(), e);
      }
      if (getter.getName().equals("getAdditionalProperties")) {
        if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
          problems.add(
              path
                  + ": unknown fields "
                  + new TreeSet<>(extra.keySet().stream().map(String::valueOf).toList()));
        }
      } else {
        String field = getter.getName().substring(3);
        unknownFields(
            value,
            path + "." + Character.toLowerCase(field.charAt(0)) + field.substring(1),
            problems);
      }
    }
  }

  private static <T> List<T> orEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }
}
