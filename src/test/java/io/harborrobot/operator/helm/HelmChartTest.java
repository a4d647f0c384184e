package io.harborrobot.operator.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesList;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.harborrobot.operator.Main;
import io.harborrobot.operator.api.v1alpha1.ClusterHarborConnection;
import io.harborrobot.operator.api.v1alpha1.ClusterHarborConnectionSpec;
import io.harborrobot.operator.deploy.DeployManifestsTest;
import io.harborrobot.operator.deploy.RbacManifestsTest;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Lints and renders the Helm chart {@code helm/harbor-robot-operator} with Helm itself (helm-java
 * bundles it as a native library) and holds what it renders to the rest of the repository: the RBAC
 * rules of {@code deploy/}, the pod of {@code deploy/deployment.yaml}, the environment variables of
 * the operator's picocli model, the Prometheus series the operator exposes, the
 * ClusterHarborConnection Java model, the CRDs of {@code crds/} and the Maven project's version and
 * image. A dozen renders: the defaults, a file of non-default values ({@code
 * non-default-values.yaml} next to this class), and a few values set one by one.
 */
class HelmChartTest {

  private static final Path CHART = Path.of("helm", "harbor-robot-operator");
  private static final Path CRDS = Path.of("crds");
  private static final Path DEPLOY = Path.of("deploy");
  private static final String RELEASE = "harbor-robot-operator";
  private static final String NAMESPACE = "harbor-robot-operator";

  /**
   * Without a cluster Helm assumes Kubernetes 1.20 (helm-java builds it without the version
   * ldflags), below the chart's kubeVersion.
   */
  private static final String KUBE_VERSION = "v1.31.0";

  /** Read by the operator outside the options of {@code run}; each is checked to be so below. */
  private static final Set<String> READ_ELSEWHERE = Set.of("LOG_LEVEL", "POD_NAMESPACE");

  /** Flags of {@code run} the chart does not set, on purpose. */
  private static final Set<String> NOT_SET_BY_THE_CHART =
      Set.of(
          // the Lease lives in the pod's namespace, POD_NAMESPACE from the downward API
          "LEASE_NAMESPACE");

  /** The Prometheus series of the contract (Micrometer's names), and JOSDK's prefix. */
  private static final Set<String> SERIES =
      Set.of(
          "harborrobot_robots",
          "harborrobot_robot_expiry_timestamp_seconds",
          "harborrobot_robot_next_rotation_timestamp_seconds",
          "harborrobot_repairs_total",
          "harborrobot_rotations_total",
          "harborrobot_credential_checks_total",
          "harbor_client_requests_seconds_count",
          "harbor_client_requests_seconds_sum",
          "harbor_client_requests_seconds_bucket",
          "harbor_client_retries_total",
          "harbor_client_throttled_total",
          "harborrobot_leader");

  private static final String JOSDK_SERIES_PREFIX = "operator_sdk_";

  private static final Set<String> ALERTS =
      Set.of(
          "HarborRobotRenewalOverdue",
          "HarborRobotExpiringSoon",
          "HarborRobotNotReady",
          "HarborCredentialChecksFailing",
          "HarborRequestErrors",
          "HarborRobotOperatorNoLeader");

  private static final Pattern ENV_REFERENCE =
      Pattern.compile("\\$\\{env:([A-Za-z_][A-Za-z0-9_]*)");

  private static final YAMLMapper YAML = new YAMLMapper();
  private static final ObjectMapper JSON = new JsonMapper();

  private static Rendered defaults;
  private static Rendered nonDefault;
  private static Rendered singleWithoutLeaderElection;

  @BeforeAll
  static void renderTheMainCases() throws Exception {
    defaults = render(t -> t);
    nonDefault = render(t -> t.withValuesFile(resource("non-default-values.yaml")));
    singleWithoutLeaderElection =
        render(t -> t.set("leaderElection.enabled", "false").set("replicaCount", "1"));
  }

  // --- lint --------------------------------------------------------------------------------------

  @Test
  void lintStrictPassesWithTheDefaults() {
    LintResult lint = new Helm(CHART).lint().strict().call();
    assertThat(lint.isFailed()).as("helm lint --strict: %s", lint.getMessages()).isFalse();
  }

  /** helm lint takes no values file: lint a copy of the chart whose values.yaml has them merged. */
  @Test
  void lintStrictPassesWithNonDefaultValues(@TempDir Path tmp) throws Exception {
    Path copy = tmp.resolve("harbor-robot-operator");
    try (Stream<Path> files = Files.walk(CHART)) {
      for (Path file : files.toList()) {
        Path target = copy.resolve(CHART.relativize(file).toString());
        if (Files.isDirectory(file)) {
          Files.createDirectories(target);
        } else {
          Files.copy(file, target);
        }
      }
    }
    Map<String, Object> values = readYaml(CHART.resolve("values.yaml"));
    merge(values, readYaml(resource("non-default-values.yaml")));
    YAML.writeValue(copy.resolve("values.yaml").toFile(), values);

    LintResult lint = new Helm(copy).lint().strict().call();
    assertThat(lint.isFailed()).as("helm lint --strict: %s", lint.getMessages()).isFalse();
  }

  /** helm template leaves NOTES.txt out; a client-only dry-run install renders it. */
  @Test
  void theNotesRenderWithNonDefaultValues() {
    String output =
        new Helm(CHART)
            .install()
            .withName(RELEASE)
            .withNamespace(NAMESPACE)
            .withKubeVersion(KUBE_VERSION)
            .withValuesFile(resource("non-default-values.yaml"))
            .clientOnly()
            .dryRun()
            .call()
            .getOutput();
    assertThat(output)
        .contains("NOTES:")
        .contains("watching namespaces team-a, team-b.")
        .contains("only the HarborRobots matching the label selector shard in (a),tier!=test")
        .contains("kubectl get clusterharborconnections harbor-prod")
        .contains("platform-secrets/harbor-prod-admin");
  }

  // --- the defaults ------------------------------------------------------------------------------

  @Test
  void theDefaultsRunTwoReplicasWithLeaderElection() {
    Deployment deployment = defaults.one(Deployment.class);
    assertThat(deployment.getMetadata().getName()).isEqualTo(RELEASE);
    assertThat(deployment.getMetadata().getNamespace()).isEqualTo(NAMESPACE);
    assertThat(deployment.getSpec().getReplicas()).isEqualTo(2);
    Map<String, EnvVar> env = env(deployment);
    assertThat(env.get("LEADER_ELECTION").getValue()).isEqualTo("true");
    assertThat(env.get("LEASE_NAME").getValue()).isEqualTo(RELEASE);
    assertThat(env.get("LEASE_DURATION").getValue()).isEqualTo("15s");
    assertThat(env.get("POD_NAMESPACE").getValueFrom().getFieldRef().getFieldPath())
        .isEqualTo("metadata.namespace");
    assertThat(env).doesNotContainKey("LEASE_NAMESPACE");
    assertThat(env.get("WATCH_NAMESPACES").getValue()).isEmpty();

    // the Lease Role, in the release namespace only, bound to the operator
    Role lease = defaults.named(Role.class, NAMESPACE, RELEASE + "-leader-election");
    assertThat(rules(lease))
        .containsExactly(
            rule(List.of("coordination.k8s.io"), List.of("leases"), "get,create,update,patch"));
    assertThat(RbacManifestsTest.grants(defaults.docs(), account(defaults), NAMESPACE))
        .containsEntry("leases.coordination.k8s.io", Set.of("create", "get", "update", "patch"));
    assertThat(RbacManifestsTest.grants(defaults.docs(), account(defaults), "team-a"))
        .doesNotContainKey("leases.coordination.k8s.io");

    // a default install has no monitoring objects and no connection
    assertThat(defaults.kinds())
        .doesNotContain("ServiceMonitor", "PrometheusRule", "ClusterHarborConnection");
    // the replicas prefer different nodes
    var preferred =
        pod(deployment)
            .getAffinity()
            .getPodAntiAffinity()
            .getPreferredDuringSchedulingIgnoredDuringExecution();
    assertThat(preferred).hasSize(1);
    assertThat(preferred.get(0).getPodAffinityTerm().getTopologyKey())
        .isEqualTo("kubernetes.io/hostname");
    assertThat(deployment.getSpec().getTemplate().getMetadata().getLabels())
        .containsAllEntriesOf(
            preferred.get(0).getPodAffinityTerm().getLabelSelector().getMatchLabels());
  }

  /** Watching all namespaces: the ClusterRole of deploy/rbac.yaml, rule for rule. */
  @Test
  void theDefaultClusterRoleHasTheRulesOfDeployRbacYaml() throws IOException {
    List<ClusterRole> chart = defaults.all(ClusterRole.class);
    assertThat(chart).hasSize(1);
    ClusterRole deploy = only(deployFile("rbac.yaml"), ClusterRole.class);
    assertThat(rules(chart.get(0))).isEqualTo(rules(deploy));
    // and every role of deploy/rbac.yaml has its counterpart, with the same rules
    assertThat(sameRolesProblems(defaults, deployFile("rbac.yaml"))).isEmpty();
  }

  @Test
  void theDefaultRbacIsLeastPrivilege() {
    assertThat(
            RbacManifestsTest.rbacProblems(
                defaults.docs(),
                account(defaults),
                Map.of(
                    NAMESPACE,
                    RbacManifestsTest.needed(true, true),
                    "team-a",
                    RbacManifestsTest.needed(true, false))))
        .isEmpty();
  }

  @Test
  void theDefaultPodIsTheOneOfDeployDeploymentYaml() throws IOException {
    Deployment deploy = only(deployFile("deployment.yaml"), Deployment.class);
    Deployment chart = defaults.one(Deployment.class);
    Container expected = pod(deploy).getContainers().get(0);
    Container actual = pod(chart).getContainers().get(0);
    assertThat(actual.getImage()).isEqualTo(expected.getImage());
    assertThat(actual.getPorts()).isEqualTo(expected.getPorts());
    assertThat(actual.getStartupProbe()).isEqualTo(expected.getStartupProbe());
    assertThat(actual.getLivenessProbe()).isEqualTo(expected.getLivenessProbe());
    assertThat(actual.getReadinessProbe()).isEqualTo(expected.getReadinessProbe());
    assertThat(actual.getResources()).isEqualTo(expected.getResources());
    assertThat(actual.getSecurityContext()).isEqualTo(expected.getSecurityContext());
    assertThat(actual.getVolumeMounts()).isEqualTo(expected.getVolumeMounts());
    assertThat(pod(chart).getVolumes()).isEqualTo(pod(deploy).getVolumes());
    assertThat(pod(chart).getSecurityContext()).isEqualTo(pod(deploy).getSecurityContext());
    assertThat(pod(chart).getAutomountServiceAccountToken())
        .isEqualTo(pod(deploy).getAutomountServiceAccountToken());
    assertThat(chart.getSpec().getReplicas()).isEqualTo(deploy.getSpec().getReplicas());
    // every variable deploy/ sets, the chart sets the same way
    Map<String, EnvVar> chartEnv = env(chart);
    env(deploy).values().forEach(e -> assertThat(chartEnv.get(e.getName())).isEqualTo(e));
  }

  @Test
  void theMetricsServiceSelectsThePodsOnTheirHttpPort() {
    for (Rendered rendered : List.of(defaults, nonDefault)) {
      Deployment deployment = rendered.one(Deployment.class);
      Service service = rendered.one(Service.class);
      Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
      assertThat(podLabels).containsAllEntriesOf(service.getSpec().getSelector());
      assertThat(service.getSpec().getSelector())
          .isEqualTo(deployment.getSpec().getSelector().getMatchLabels());
      assertThat(service.getSpec().getPorts()).hasSize(1);
      assertThat(service.getSpec().getPorts().get(0).getName()).isEqualTo("http");
      assertThat(service.getSpec().getPorts().get(0).getTargetPort().getStrVal()).isEqualTo("http");
      assertThat(service.getSpec().getPorts().get(0).getPort())
          .isEqualTo(Integer.parseInt(env(deployment).get("METRICS_PORT").getValue()));
      assertThat(container(deployment).getPorts())
          .singleElement()
          .satisfies(
              p -> {
                assertThat(p.getName()).isEqualTo("http");
                assertThat(p.getContainerPort())
                    .isEqualTo(service.getSpec().getPorts().get(0).getPort());
              });
    }
  }

  // --- non-default values ------------------------------------------------------------------------

  @Test
  void nonDefaultValuesReachThePod() {
    Deployment deployment = nonDefault.one(Deployment.class);
    assertThat(deployment.getMetadata().getName()).isEqualTo("robots-shard-a");
    assertThat(deployment.getSpec().getReplicas()).isEqualTo(3);
    Map<String, String> env =
        env(deployment).values().stream()
            .filter(e -> e.getValue() != null)
            .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
    assertThat(env)
        .containsEntry("WATCH_NAMESPACES", "team-a,team-b")
        .containsEntry("ROBOT_SELECTOR", "shard in (a),tier!=test")
        .containsEntry("RESYNC_PERIOD", "PT20M")
        .containsEntry("CREDENTIAL_CHECK_PERIOD", "1h")
        .containsEntry("CONNECTION_CHECK_PERIOD", "90s")
        .containsEntry("METRICS_PORT", "9090")
        .containsEntry("LEADER_ELECTION", "true")
        .containsEntry("LEASE_NAME", "robots-shard-a")
        .containsEntry("LEASE_DURATION", "30s")
        .containsEntry("LOG_FORMAT", "json")
        .containsEntry("LOG_LEVEL", "DEBUG");

    Container container = container(deployment);
    assertThat(container.getImage())
        .isEqualTo("registry.example.com/mirror/harbor-robot-operator:9.9.9");
    assertThat(container.getImagePullPolicy()).isEqualTo("Always");
    assertThat(container.getResources().getRequests())
        .containsEntry("cpu", new Quantity("50m"))
        .containsEntry("memory", new Quantity("300Mi"));
    assertThat(container.getResources().getLimits())
        .containsEntry("cpu", new Quantity("1"))
        .containsEntry("memory", new Quantity("1Gi"));

    PodSpec pod = pod(deployment);
    assertThat(pod.getImagePullSecrets()).extracting("name").containsExactly("mirror-pull");
    assertThat(pod.getServiceAccountName()).isEqualTo("robots-operator");
    assertThat(pod.getNodeSelector())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("kubernetes.io/os", "linux", "node-role.example.com/platform", "true"));
    assertThat(pod.getTolerations())
        .containsExactly(new Toleration("NoSchedule", "platform", "Exists", null, null));
    // an affinity of one's own replaces the default anti-affinity
    assertThat(pod.getAffinity().getPodAntiAffinity()).isNull();
    assertThat(pod.getAffinity().getNodeAffinity()).isNotNull();
    assertThat(pod.getTopologySpreadConstraints())
        .singleElement()
        .extracting("topologyKey")
        .isEqualTo("topology.kubernetes.io/zone");
    assertThat(pod.getPriorityClassName()).isEqualTo("system-cluster-critical");
    assertThat(deployment.getSpec().getTemplate().getMetadata().getAnnotations())
        .containsEntry("example.com/team", "platform");
    assertThat(deployment.getSpec().getTemplate().getMetadata().getLabels())
        .containsEntry("example.com/shard", "a")
        .containsAllEntriesOf(deployment.getSpec().getSelector().getMatchLabels());

    ServiceAccount account = nonDefault.one(ServiceAccount.class);
    assertThat(account.getMetadata().getName()).isEqualTo("robots-operator");
    assertThat(account.getMetadata().getAnnotations())
        .containsEntry("example.com/owner", "platform");
  }

  /**
   * watchNamespaces set: the RBAC of deploy/rbac-namespaced.yaml, with its watched-namespace Role
   * in each watched namespace, and no ClusterRole granting anything namespaced.
   */
  @Test
  void watchedNamespacesGetTheRolesOfDeployRbacNamespacedYaml() throws IOException {
    assertThat(sameRolesProblems(nonDefault, deployFile("rbac-namespaced.yaml"))).isEmpty();

    List<ClusterRole> clusterRoles = nonDefault.all(ClusterRole.class);
    assertThat(clusterRoles)
        .extracting(r -> r.getMetadata().getName())
        .containsExactly("robots-shard-a-cluster-scoped");
    assertThat(clusterRoles.get(0).getRules())
        .flatExtracting(PolicyRule::getResources)
        .containsOnly("clusterharborconnections", "clusterharborconnections/status", "namespaces");

    Map<String, Set<String>> rolesByNamespace = new TreeMap<>();
    nonDefault
        .all(Role.class)
        .forEach(
            r ->
                rolesByNamespace
                    .computeIfAbsent(r.getMetadata().getNamespace(), n -> new TreeSet<>())
                    .add(r.getMetadata().getName()));
    assertThat(rolesByNamespace)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "team-a",
                Set.of("robots-shard-a"),
                "team-b",
                Set.of("robots-shard-a"),
                NAMESPACE,
                Set.of("robots-shard-a-connection-credentials", "robots-shard-a-leader-election"),
                // clusterHarborConnection.credentialsSecret.namespace
                "platform-secrets",
                Set.of("robots-shard-a-connection-credentials"),
                // rbac.connectionSecretNamespaces
                "harbor-secrets",
                Set.of("robots-shard-a-connection-credentials")));

    Map<String, Set<String>> getSecrets = Map.of("secrets", Set.of("get"));
    assertThat(
            RbacManifestsTest.rbacProblems(
                nonDefault.docs(),
                account(nonDefault),
                Map.of(
                    "team-a",
                    RbacManifestsTest.needed(true, false),
                    "team-b",
                    RbacManifestsTest.needed(true, false),
                    NAMESPACE,
                    RbacManifestsTest.needed(false, true),
                    "platform-secrets",
                    union(RbacManifestsTest.needed(false, false), getSecrets),
                    "harbor-secrets",
                    union(RbacManifestsTest.needed(false, false), getSecrets),
                    "unwatched",
                    RbacManifestsTest.needed(false, false))))
        .isEmpty();
  }

  @Test
  void withoutLeaderElectionThereIsNoLeaseRoleAndOneReplica() {
    Deployment deployment = singleWithoutLeaderElection.one(Deployment.class);
    assertThat(deployment.getSpec().getReplicas()).isEqualTo(1);
    assertThat(deployment.getSpec().getStrategy().getType()).isEqualTo("Recreate");
    Map<String, EnvVar> env = env(deployment);
    assertThat(env.get("LEADER_ELECTION").getValue()).isEqualTo("false");
    assertThat(env).doesNotContainKeys("LEASE_NAME", "LEASE_DURATION");
    assertThat(
            Stream.concat(
                    singleWithoutLeaderElection.all(Role.class).stream(),
                    singleWithoutLeaderElection.all(ClusterRole.class).stream())
                .flatMap(r -> rules(r).stream())
                .flatMap(r -> r.resources().stream()))
        .doesNotContain("leases");
    // one replica: no anti-affinity to prefer
    assertThat(pod(deployment).getAffinity()).isNull();
    Map<String, Set<String>> needed = new TreeMap<>(RbacManifestsTest.needed(true, true));
    needed.remove("leases.coordination.k8s.io");
    assertThat(
            RbacManifestsTest.rbacProblems(
                singleWithoutLeaderElection.docs(),
                account(singleWithoutLeaderElection),
                Map.of(NAMESPACE, needed)))
        .isEmpty();

    // several replicas without a leader would all write to Harbor
    assertThatThrownBy(
            () -> render(t -> t.set("leaderElection.enabled", "false").set("replicaCount", "3")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("leaderElection.enabled=false needs replicaCount=1");
  }

  // --- monitoring --------------------------------------------------------------------------------

  @Test
  void theServiceMonitorAndPrometheusRuleAreCreatedOnDemandWithTheirLabels() throws Exception {
    Rendered monitored =
        render(
            t ->
                t.set("metrics.serviceMonitor.enabled", "true")
                    .set("metrics.serviceMonitor.labels.release", "prometheus")
                    .set("metrics.prometheusRule.enabled", "true")
                    .set("metrics.prometheusRule.labels.release", "prometheus"));
    GenericKubernetesResource monitor = monitored.generic("ServiceMonitor");
    assertThat(monitor.getApiVersion()).isEqualTo("monitoring.coreos.com/v1");
    assertThat(monitor.getMetadata().getLabels()).containsEntry("release", "prometheus");
    Service service = monitored.one(Service.class);
    assertThat(service.getMetadata().getLabels())
        .containsAllEntriesOf(monitor.get("spec", "selector", "matchLabels"));
    Map<String, Object> endpoint =
        monitor.<List<Map<String, Object>>>get("spec", "endpoints").get(0);
    assertThat(endpoint)
        .containsEntry("port", "http")
        .containsEntry("path", "/metrics")
        .containsEntry("interval", "30s")
        .containsEntry("honorLabels", true);
    assertThat(monitor.<List<String>>get("spec", "namespaceSelector", "matchNames"))
        .containsExactly(NAMESPACE);

    GenericKubernetesResource rule = monitored.generic("PrometheusRule");
    assertThat(rule.getApiVersion()).isEqualTo("monitoring.coreos.com/v1");
    assertThat(rule.getMetadata().getLabels()).containsEntry("release", "prometheus");
    Map<String, Map<String, Object>> alerts = alerts(rule);
    assertThat(alerts.keySet()).isEqualTo(ALERTS);
    alerts.forEach(
        (name, alert) -> {
          // scoped to this release's job, which a ServiceMonitor gives the Service's name
          assertThat((String) alert.get("expr")).as(name).contains("job=\"" + RELEASE + "\"");
          // Helm left Prometheus' templating alone
          assertThat(alert.get("annotations").toString()).as(name).doesNotContain("`");
        });
    assertThat(alerts.get("HarborRobotRenewalOverdue"))
        .containsEntry("for", "10m")
        .containsEntry("labels", Map.of("severity", "warning"))
        .extracting("expr")
        .asString()
        .contains("time() - max by (namespace, name) (harborrobot_robot_next_rotation_timestamp")
        .endsWith("> 3600");
    assertThat(alerts.get("HarborRobotExpiringSoon"))
        .containsEntry("for", "10m")
        .containsEntry("labels", Map.of("severity", "critical"))
        .extracting("expr")
        .asString()
        .contains(
            "harborrobot_robot_expiry_timestamp_seconds",
            "- time()",
            "< 2 * 86400",
            "and on (namespace, name) (time() > max by (namespace, name)"
                + " (harborrobot_robot_next_rotation_timestamp_seconds");
    assertThat(alerts.get("HarborRobotExpiringSoon").get("annotations").toString())
        .contains("{{ $labels.namespace }}/{{ $labels.name }}", "{{ $value | humanizeDuration }}");
    assertThat(alerts.get("HarborRobotNotReady"))
        .containsEntry("for", "15m")
        .extracting("expr")
        .asString()
        .startsWith("sum by (reason) (harborrobot_robots{ready!=\"True\",")
        .endsWith("> 0");
    assertThat(alerts.get("HarborCredentialChecksFailing"))
        .doesNotContainKey("for")
        .extracting("expr")
        .asString()
        .contains(
            "sum(increase(harborrobot_credential_checks_total{result=\"refused\",",
            "- (sum(increase(harborrobot_repairs_total{kind=\"secret_refreshed_in_harbor\",",
            "[30m]")
        .endsWith("> 1");
    assertThat(alerts.get("HarborRequestErrors"))
        .containsEntry("for", "15m")
        .extracting("expr")
        .asString()
        .contains("sum by (connection)", "status=~\"5..|io_error\"")
        .endsWith("> 0.1");
    assertThat(alerts.get("HarborRobotOperatorNoLeader"))
        .containsEntry("for", "5m")
        .containsEntry("labels", Map.of("severity", "critical"))
        .extracting("expr")
        .asString()
        .contains("max(harborrobot_leader{", "< 1", "absent(harborrobot_leader{");
    // and only the operator's series
    alerts.forEach(
        (name, alert) ->
            assertThat(seriesIn((String) alert.get("expr")))
                .as("series of %s", name)
                .isNotEmpty()
                .allSatisfy(
                    s ->
                        assertThat(SERIES.contains(s) || s.startsWith(JOSDK_SERIES_PREFIX))
                            .as("%s reads %s, not a series of the operator", name, s)
                            .isTrue()));
  }

  @Test
  void theAlertsCanBeTunedTurnedOffAndExtended() {
    GenericKubernetesResource rule = nonDefault.generic("PrometheusRule");
    assertThat(rule.getMetadata().getLabels()).containsEntry("release", "prometheus");
    Map<String, Map<String, Object>> alerts = alerts(rule);
    assertThat(alerts).doesNotContainKey("HarborRobotNotReady");
    assertThat(alerts.get("HarborRobotOperatorNoLeader"))
        .containsEntry("for", "10m")
        .containsEntry("labels", Map.of("severity", "page"));
    assertThat((String) alerts.get("HarborRobotExpiringSoon").get("expr")).contains("< 7 * 86400");
    alerts.values().stream()
        .map(a -> (String) a.get("expr"))
        .forEach(e -> assertThat(e).contains("job=\"robots-shard-a\",namespace=\"platform\""));
    assertThat(promRules(rule))
        .anySatisfy(r -> assertThat(r).containsEntry("record", "harborrobot:robots:not_ready"));

    GenericKubernetesResource monitor = nonDefault.generic("ServiceMonitor");
    Map<String, Object> endpoint =
        monitor.<List<Map<String, Object>>>get("spec", "endpoints").get(0);
    assertThat(endpoint)
        .containsEntry("interval", "15s")
        .containsEntry("scrapeTimeout", "10s")
        .containsEntry("honorLabels", false);
  }

  // --- the ClusterHarborConnection ---------------------------------------------------------------

  @Test
  void theClusterHarborConnectionFollowsTheJavaModelAndTheCrd() throws Exception {
    CustomResourceDefinition crd =
        Serialization.unmarshal(
            Files.readString(CRDS.resolve("clusterharborconnections.harborrobot.io-v1.yml")),
            CustomResourceDefinition.class);

    Map<String, Object> raw = nonDefault.raw("ClusterHarborConnection");
    ClusterHarborConnection connection = connection(raw);
    assertThat(connection.getApiVersion())
        .isEqualTo(crd.getSpec().getGroup() + "/" + crd.getSpec().getVersions().get(0).getName());
    assertThat(connection.getKind()).isEqualTo(crd.getSpec().getNames().getKind());
    assertThat(connection.getMetadata().getName()).isEqualTo("harbor-prod");
    assertThat(connection.getMetadata().getNamespace()).isNull();
    assertThat(connection.isDefault()).isTrue();
    ClusterHarborConnectionSpec spec = connection.getSpec();
    assertThat(spec.getUrl()).isEqualTo("https://harbor.example.com");
    assertThat(spec.getRegistryHost()).isEqualTo("registry.example.com:8443");
    assertThat(spec.getCredentialsSecretRef().getName()).isEqualTo("harbor-prod-admin");
    assertThat(spec.getCredentialsSecretRef().getNamespace()).isEqualTo("platform-secrets");
    assertThat(spec.getCaSecretRef().getName()).isEqualTo("harbor-ca");
    assertThat(spec.getCaSecretRef().getKey()).isEqualTo("ca.pem");
    assertThat(spec.getCaSecretRef().getNamespace()).isEqualTo(NAMESPACE);
    assertThat(spec.getCaBundle()).isNull();
    assertThat(spec.getRequestsPerSecond()).isEqualTo(20);
    assertThat(spec.getMaxConcurrentRequests()).isEqualTo(8);
    assertThat(spec.getAccess()).hasSize(2);
    assertThat(spec.getAccess().get(0).getNamespaces()).containsExactly("team-a");
    assertThat(spec.getAccess().get(0).getProjects()).containsExactly("team-a", "team-a-*");
    assertThat(spec.getAccess().get(1).getNamespaceSelector().getMatchLabels())
        .containsEntry("tenant", "b");
    assertThat(spec.getAccess().get(1).getAllowSystemLevel()).isTrue();

    // the fewest values: the Secret in the release namespace, CRD defaults, not the default
    ClusterHarborConnection minimal =
        connection(
            render(
                    t ->
                        t.set("clusterHarborConnection.create", "true")
                            .set("clusterHarborConnection.default", "false")
                            .set("clusterHarborConnection.url", "http://harbor.local:8080")
                            .set("clusterHarborConnection.credentialsSecret.name", "admin"))
                .raw("ClusterHarborConnection"));
    assertThat(minimal.getMetadata().getName()).isEqualTo("harbor");
    assertThat(minimal.isDefault()).isFalse();
    assertThat(minimal.getSpec().getUrl()).isEqualTo("http://harbor.local:8080");
    assertThat(minimal.getSpec().getCredentialsSecretRef().getName()).isEqualTo("admin");
    assertThat(minimal.getSpec().getCredentialsSecretRef().getNamespace()).isEqualTo(NAMESPACE);
    assertThat(minimal.getSpec().getCaSecretRef()).isNull();
    assertThat(minimal.getSpec().getInsecureSkipTLSVerify()).isFalse();
    assertThat(minimal.getSpec().getRequestsPerSecond()).isEqualTo(10);
    assertThat(minimal.getSpec().getAccess()).isEmpty();
  }

  @Test
  void aClusterHarborConnectionWithoutUrlOrSecretFailsWithAClearMessage() {
    assertThatThrownBy(
            () ->
                render(
                    t ->
                        t.set("clusterHarborConnection.create", "true")
                            .set("clusterHarborConnection.credentialsSecret.name", "admin")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(
            "clusterHarborConnection.url is required when clusterHarborConnection.create is"
                + " true");
    assertThatThrownBy(
            () ->
                render(
                    t ->
                        t.set("clusterHarborConnection.create", "true")
                            .set("clusterHarborConnection.url", "https://harbor.example.com")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("clusterHarborConnection.credentialsSecret.name is required")
        .hasMessageContaining("the chart never creates credentials");
  }

  // --- the values schema -------------------------------------------------------------------------

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource({
    "logFormat, xml, /logFormat",
    "replicaCount, 0, /replicaCount",
    "replicas, 2, additional properties 'replicas' not allowed",
    "resyncPeriod, ten minutes, /resyncPeriod",
    "leaderElection.leaseDurationSeconds, 15, additional properties 'leaseDurationSeconds'",
    "leaderElection.leaseDuration, 2s, /leaderElection/leaseDuration",
    "leaderElection.leaseDuration, 1500ms, /leaderElection/leaseDuration",
    "watchNamespaces[0], Team_A, /watchNamespaces/0",
  })
  void theSchemaRejects(String key, String value, String message) {
    assertThatThrownBy(() -> render(t -> t.set(key, value)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("values don't meet the specifications of the schema")
        .hasMessageContaining(message);
  }

  // --- the pod against the operator --------------------------------------------------------------

  @Test
  void everyContainerHasTheRestrictedSecurityContext() {
    for (Rendered rendered : List.of(defaults, nonDefault, singleWithoutLeaderElection)) {
      List<PodTemplateSpec> templates =
          rendered.all(Deployment.class).stream().map(d -> d.getSpec().getTemplate()).toList();
      assertThat(templates).isNotEmpty();
      for (PodTemplateSpec template : templates) {
        PodSecurityContext pod = template.getSpec().getSecurityContext();
        assertThat(pod.getRunAsNonRoot()).isTrue();
        assertThat(pod.getRunAsUser()).isEqualTo(65532L);
        assertThat(pod.getRunAsGroup()).isEqualTo(65532L);
        assertThat(pod.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        List<Container> containers = new ArrayList<>(template.getSpec().getContainers());
        containers.addAll(orEmpty(template.getSpec().getInitContainers()));
        assertThat(containers)
            .allSatisfy(
                c -> {
                  SecurityContext sc = c.getSecurityContext();
                  assertThat(sc.getAllowPrivilegeEscalation()).as(c.getName()).isFalse();
                  assertThat(sc.getReadOnlyRootFilesystem()).as(c.getName()).isTrue();
                  assertThat(sc.getPrivileged()).as(c.getName()).isFalse();
                  assertThat(sc.getCapabilities().getDrop()).as(c.getName()).containsExactly("ALL");
                  assertThat(orEmpty(sc.getCapabilities().getAdd())).as(c.getName()).isEmpty();
                  assertThat(c.getVolumeMounts())
                      .as(c.getName())
                      .anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/tmp"));
                });
        assertThat(template.getSpec().getVolumes())
            .anySatisfy(v -> assertThat(v.getEmptyDir()).isNotNull());
      }
      List<String> unknown = new ArrayList<>();
      rendered.objects().forEach(o -> DeployManifestsTest.unknownFields(o, o.getKind(), unknown));
      assertThat(unknown).as("fields fabric8 (and so the API server) does not know").isEmpty();
    }
  }

  /**
   * Every variable the chart sets is one the operator reads (from the picocli model of {@code
   * run}), with a value its own parser accepts; and every option of {@code run} can be set from the
   * chart.
   */
  @Test
  void everyEnvironmentVariableIsOneTheOperatorReadsWithAValueItAccepts() throws Exception {
    Map<String, OptionSpec> optionByEnv = new TreeMap<>();
    for (OptionSpec option : runOptions()) {
      Matcher m = ENV_REFERENCE.matcher(Objects.toString(option.defaultValue(), ""));
      while (m.find()) {
        optionByEnv.put(m.group(1), option);
      }
    }
    assertThat(optionByEnv)
        .as("environment variables of run's options")
        .containsKeys("WATCH_NAMESPACES", "LEADER_ELECTION", "LOG_FORMAT");
    // read elsewhere: logback's root level, and the Lease's namespace after LEASE_NAMESPACE
    assertThat(Files.readString(Path.of("src/main/resources/logback.xml")))
        .contains("${LOG_LEVEL:-");
    assertThat(String.join(" ", optionByEnv.get("LEASE_NAMESPACE").description()))
        .contains("POD_NAMESPACE");
    Set<String> known = new TreeSet<>(optionByEnv.keySet());
    known.addAll(READ_ELSEWHERE);

    for (Rendered rendered : List.of(defaults, nonDefault, singleWithoutLeaderElection)) {
      Container container = container(rendered.one(Deployment.class));
      assertThat(container.getEnvFrom()).isNullOrEmpty();
      Map<String, EnvVar> env = env(rendered.one(Deployment.class));
      assertThat(env.keySet()).isSubsetOf(known);

      // the operator's own parser takes every value: run with the variables as flags
      List<String> args = new ArrayList<>(List.of("run"));
      env.values().stream()
          .filter(e -> optionByEnv.containsKey(e.getName()))
          .forEach(e -> args.add(optionByEnv.get(e.getName()).longestName() + "=" + e.getValue()));
      CommandLine commandLine = commandLine();
      assertThat(commandLine.parseArgs(args.toArray(String[]::new)).subcommand()).isNotNull();
    }

    Set<String> settable = new TreeSet<>(env(nonDefault.one(Deployment.class)).keySet());
    settable.addAll(NOT_SET_BY_THE_CHART);
    assertThat(settable).as("variables the chart can set").containsAll(optionByEnv.keySet());
  }

  // --- versions, image and CRDs ------------------------------------------------------------------

  @Test
  void theChartVersionsAndImageAreTheMavenProjects() throws IOException {
    String version = System.getProperty("project.version");
    String repository = System.getProperty("image.repository");
    assertThat(version).as("system property project.version (set by surefire)").isNotBlank();
    assertThat(repository).as("system property image.repository (set by surefire)").isNotBlank();

    Map<String, Object> chart = readYaml(CHART.resolve("Chart.yaml"));
    assertThat(chart)
        .containsEntry("apiVersion", "v2")
        .containsEntry("name", "harbor-robot-operator")
        .containsEntry("version", version)
        .containsEntry("appVersion", version)
        .containsEntry("kubeVersion", ">=1.25.0-0");
    Map<String, Object> values = readYaml(CHART.resolve("values.yaml"));
    assertThat(values.get("image")).extracting("repository").isEqualTo(repository);
    assertThat(container(defaults.one(Deployment.class)).getImage())
        .isEqualTo(repository + ":" + version);
  }

  @Test
  void theChartCrdsAreTheRepositoryCrds() throws IOException {
    String refresh =
        " (refresh both copies: mvn -B test -Dtest=CrdsAreCurrentTest -Dcrds.update=true)";
    Path chartCrds = CHART.resolve("crds");
    assertThat(fileNames(chartCrds))
        .as("files of %s%s", chartCrds, refresh)
        .isEqualTo(fileNames(CRDS));
    for (String name : fileNames(CRDS)) {
      assertThat(Files.readAllBytes(chartCrds.resolve(name)))
          .as("%s is not the same as %s%s", chartCrds.resolve(name), CRDS.resolve(name), refresh)
          .isEqualTo(Files.readAllBytes(CRDS.resolve(name)));
    }
    // and Helm finds them all
    String shown = new Helm(CHART).show().crds().call();
    Set<String> names = new TreeSet<>();
    for (HasMetadata crd : parse(shown).objects()) {
      assertThat(crd).isInstanceOf(CustomResourceDefinition.class);
      names.add(crd.getMetadata().getName());
    }
    assertThat(names)
        .containsExactly(
            "clusterharborconnections.harborrobot.io",
            "harborconnections.harborrobot.io",
            "harborrobots.harborrobot.io");
  }

  // --- the PromQL reader, which must tell series from functions and labels -----------------------

  @Test
  void seriesInFindsTheSeriesOfAnExpression() {
    assertThat(
            seriesIn(
                "sum by (connection) (rate(a_total{status=~\"5..|x\",job=\"j\"}[5m]))"
                    + " / on (connection) group_left b_count > 0.1 or absent(c{job=\"x y\"})"
                    + " unless max without (pod) (d) < 7 * 86400 - time()"))
        .containsExactlyInAnyOrder("a_total", "b_count", "c", "d");
  }

  // --- rendering ---------------------------------------------------------------------------------

  /** The objects of one render, each with the map it was read from. */
  record Rendered(List<Map<String, Object>> raws, List<HasMetadata> objects) {

    <T extends HasMetadata> List<T> all(Class<T> kind) {
      return objects.stream().filter(kind::isInstance).map(kind::cast).toList();
    }

    <T extends HasMetadata> T one(Class<T> kind) {
      List<T> found = all(kind);
      assertThat(found).as("%s objects", kind.getSimpleName()).hasSize(1);
      return found.get(0);
    }

    <T extends HasMetadata> T named(Class<T> kind, String namespace, String name) {
      List<T> found =
          all(kind).stream()
              .filter(o -> name.equals(o.getMetadata().getName()))
              .filter(o -> Objects.equals(namespace, o.getMetadata().getNamespace()))
              .toList();
      assertThat(found).as("%s %s/%s", kind.getSimpleName(), namespace, name).hasSize(1);
      return found.get(0);
    }

    GenericKubernetesResource generic(String kind) {
      List<HasMetadata> found = objects.stream().filter(o -> kind.equals(o.getKind())).toList();
      assertThat(found).as("%s objects", kind).hasSize(1);
      return Serialization.unmarshal(
          Serialization.asJson(found.get(0)), GenericKubernetesResource.class);
    }

    Map<String, Object> raw(String kind) {
      List<Map<String, Object>> found =
          raws.stream().filter(r -> kind.equals(r.get("kind"))).toList();
      assertThat(found).as("%s objects", kind).hasSize(1);
      return found.get(0);
    }

    Set<String> kinds() {
      return objects.stream().map(HasMetadata::getKind).collect(Collectors.toSet());
    }

    /** As RbacManifestsTest reads files: one file, the chart. */
    List<RbacManifestsTest.Doc> docs() {
      return objects.stream().map(o -> new RbacManifestsTest.Doc("chart", o)).toList();
    }
  }

  static Rendered render(UnaryOperator<TemplateCommand> values) {
    TemplateCommand template =
        new Helm(CHART)
            .template()
            .withName(RELEASE)
            .withNamespace(NAMESPACE)
            .withKubeVersion(KUBE_VERSION);
    return parse(values.apply(template).call());
  }

  static Rendered parse(String yaml) {
    List<Map<String, Object>> raws = new ArrayList<>();
    List<HasMetadata> objects = new ArrayList<>();
    try {
      for (Object document : YAML.readerFor(Object.class).readValues(yaml).readAll()) {
        if (document == null) {
          continue;
        }
        assertThat(document).as("a rendered document").isInstanceOf(Map.class);
        @SuppressWarnings("unchecked")
        Map<String, Object> raw = (Map<String, Object>) document;
        raws.add(raw);
        Object parsed = Serialization.unmarshal(JSON.writeValueAsString(raw));
        assertThat(parsed).as("%s", raw.get("kind")).isInstanceOf(HasMetadata.class);
        objects.add((HasMetadata) parsed);
      }
    } catch (IOException e) {
      throw new AssertionError("cannot read what Helm rendered:\n" + yaml, e);
    }
    return new Rendered(raws, objects);
  }

  // --- RBAC helpers ------------------------------------------------------------------------------

  /** A rule with its lists as sets: the order of verbs or resources means nothing. */
  record Rule(
      Set<String> apiGroups,
      Set<String> resources,
      Set<String> verbs,
      Set<String> resourceNames,
      Set<String> nonResourceURLs) {}

  static Rule rule(List<String> apiGroups, List<String> resources, String verbs) {
    return new Rule(
        Set.copyOf(apiGroups), Set.copyOf(resources), Set.of(verbs.split(",")), Set.of(), Set.of());
  }

  static Set<Rule> rules(HasMetadata role) {
    List<PolicyRule> rules =
        role instanceof ClusterRole c ? c.getRules() : ((Role) role).getRules();
    return orEmpty(rules).stream()
        .map(
            r ->
                new Rule(
                    Set.copyOf(orEmpty(r.getApiGroups())),
                    Set.copyOf(orEmpty(r.getResources())),
                    Set.copyOf(orEmpty(r.getVerbs())),
                    Set.copyOf(orEmpty(r.getResourceNames())),
                    Set.copyOf(orEmpty(r.getNonResourceURLs()))))
        .collect(Collectors.toSet());
  }

  /**
   * Matches the roles of a render with those of a file of {@code deploy/}, whose names start with
   * {@code harbor-robot-operator} where the chart's start with its full name: each role of the file
   * must be rendered with the same rules (a namespaced one in every namespace the chart puts it
   * in), and the chart may render no other role.
   */
  static List<String> sameRolesProblems(Rendered rendered, List<HasMetadata> deployFile) {
    String fullname = rendered.one(Deployment.class).getMetadata().getName();
    List<String> problems = new ArrayList<>();
    Map<String, Set<Rule>> deployRoles = new TreeMap<>();
    deployFile.stream()
        .filter(o -> o instanceof Role || o instanceof ClusterRole)
        .forEach(
            o ->
                deployRoles.put(
                    o.getKind()
                        + " "
                        + o.getMetadata().getName().replaceFirst("^" + Pattern.quote(RELEASE), ""),
                    rules(o)));
    Set<String> rendersOf = new TreeSet<>();
    Stream.concat(rendered.all(Role.class).stream(), rendered.all(ClusterRole.class).stream())
        .forEach(
            o -> {
              String key =
                  o.getKind()
                      + " "
                      + o.getMetadata().getName().replaceFirst("^" + Pattern.quote(fullname), "");
              rendersOf.add(key);
              Set<Rule> expected = deployRoles.get(key);
              if (expected == null) {
                problems.add(o.getKind() + " " + o.getMetadata().getName() + " is not in deploy/");
              } else if (!expected.equals(rules(o))) {
                problems.add(
                    o.getKind()
                        + " "
                        + o.getMetadata().getNamespace()
                        + "/"
                        + o.getMetadata().getName()
                        + " has rules "
                        + rules(o)
                        + ", deploy/ has "
                        + expected);
              }
            });
    deployRoles.keySet().stream()
        .filter(k -> !rendersOf.contains(k))
        .forEach(k -> problems.add(k + " of deploy/ is not rendered"));
    return problems;
  }

  static RbacManifestsTest.Account account(Rendered rendered) {
    return new RbacManifestsTest.Account(
        NAMESPACE, pod(rendered.one(Deployment.class)).getServiceAccountName());
  }

  static Map<String, Set<String>> union(Map<String, Set<String>> a, Map<String, Set<String>> b) {
    Map<String, Set<String>> union = new TreeMap<>();
    Stream.of(a, b)
        .forEach(
            m -> m.forEach((k, v) -> union.computeIfAbsent(k, x -> new TreeSet<>()).addAll(v)));
    return union;
  }

  // --- PrometheusRule helpers --------------------------------------------------------------------

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> promRules(GenericKubernetesResource prometheusRule) {
    List<Map<String, Object>> groups = prometheusRule.get("spec", "groups");
    return groups.stream()
        .flatMap(g -> ((List<Map<String, Object>>) g.get("rules")).stream())
        .toList();
  }

  static Map<String, Map<String, Object>> alerts(GenericKubernetesResource prometheusRule) {
    Map<String, Map<String, Object>> alerts = new TreeMap<>();
    promRules(prometheusRule).stream()
        .filter(r -> r.containsKey("alert"))
        .forEach(r -> alerts.put((String) r.get("alert"), r));
    return alerts;
  }

  /**
   * The series a PromQL expression reads: its identifiers, once strings, label matchers, ranges and
   * the label lists of by/without/on/ignoring/group_* are gone, that call nothing and are no
   * keyword.
   */
  static Set<String> seriesIn(String expr) {
    String bare =
        expr.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"")
            .replaceAll("\\{[^}]*}", " ")
            .replaceAll("\\[[^\\]]*\\]", " ")
            .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ");
    Set<String> keywords =
        Set.of(
            "and",
            "or",
            "unless",
            "bool",
            "offset",
            "group_left",
            "group_right",
            "on",
            "ignoring",
            "by",
            "without");
    Set<String> series = new TreeSet<>();
    Matcher m = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\s*\\()?").matcher(bare);
    while (m.find()) {
      if (m.group(2) == null && !keywords.contains(m.group(1))) {
        series.add(m.group(1));
      }
    }
    return series;
  }

  // --- other helpers -----------------------------------------------------------------------------

  static ClusterHarborConnection connection(Map<String, Object> raw) {
    // every field of the spec must be one the Java model (and so the CRD) has
    ObjectMapper strict =
        new JsonMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);
    strict.convertValue(raw.get("spec"), ClusterHarborConnectionSpec.class);
    try {
      return Serialization.unmarshal(JSON.writeValueAsString(raw), ClusterHarborConnection.class);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  static PodSpec pod(Deployment deployment) {
    return deployment.getSpec().getTemplate().getSpec();
  }

  static Container container(Deployment deployment) {
    assertThat(pod(deployment).getContainers()).hasSize(1);
    return pod(deployment).getContainers().get(0);
  }

  static Map<String, EnvVar> env(Deployment deployment) {
    Map<String, EnvVar> env = new LinkedHashMap<>();
    orEmpty(container(deployment).getEnv())
        .forEach(e -> assertThat(env.put(e.getName(), e)).as("%s set twice", e.getName()).isNull());
    return env;
  }

  static List<HasMetadata> deployFile(String name) throws IOException {
    try (InputStream in = Files.newInputStream(DEPLOY.resolve(name))) {
      Object parsed = Serialization.unmarshal(in);
      Collection<?> items =
          parsed instanceof KubernetesList list
              ? list.getItems()
              : parsed instanceof Collection<?> c ? c : List.of(parsed);
      return items.stream().map(HasMetadata.class::cast).toList();
    }
  }

  static <T extends HasMetadata> T only(List<HasMetadata> objects, Class<T> kind) {
    List<T> found = objects.stream().filter(kind::isInstance).map(kind::cast).toList();
    assertThat(found).as("%s objects", kind.getSimpleName()).hasSize(1);
    return found.get(0);
  }

  /** The options of {@code run}, from {@code Main.commandLine()} (package-private). */
  static List<OptionSpec> runOptions() throws Exception {
    CommandLine run = commandLine().getSubcommands().get("run");
    assertThat(run).as("the run command").isNotNull();
    run.setInterpolateVariables(false);
    return run.getCommandSpec().options();
  }

  static CommandLine commandLine() throws Exception {
    Method commandLine = Main.class.getDeclaredMethod("commandLine");
    commandLine.setAccessible(true);
    try {
      return (CommandLine) commandLine.invoke(null);
    } catch (InvocationTargetException e) {
      throw new AssertionError("Main.commandLine() failed", e.getCause());
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> readYaml(Path file) throws IOException {
    return YAML.readValue(file.toFile(), LinkedHashMap.class);
  }

  /** Deep-merges {@code overrides} into {@code base}, as Helm merges a values file. */
  @SuppressWarnings("unchecked")
  static void merge(Map<String, Object> base, Map<String, Object> overrides) {
    overrides.forEach(
        (key, value) -> {
          if (value instanceof Map<?, ?> map && base.get(key) instanceof Map<?, ?> existing) {
            merge((Map<String, Object>) existing, (Map<String, Object>) map);
          } else {
            base.put(key, value);
          }
        });
  }

  static Set<String> fileNames(Path folder) throws IOException {
    try (Stream<Path> files = Files.list(folder)) {
      return files
          .map(f -> f.getFileName().toString())
          .collect(Collectors.toCollection(TreeSet::new));
    }
  }

  static Path resource(String name) {
    try {
      return Path.of(Objects.requireNonNull(HelmChartTest.class.getResource(name), name).toURI());
    } catch (URISyntaxException e) {
      throw new AssertionError(e);
    }
  }

  static <T> List<T> orEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }
}
