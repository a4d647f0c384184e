package io.harborrobot.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesList;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleRef;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Holds the RBAC manifests under {@code deploy/} to least privilege: every YAML document of every
 * file there is parsed, and each rule is checked against the verbs the operator really sends (read
 * from the code: {@code CredentialSecretStore}, {@code HarborSessions}, {@code EventRecorder}, the
 * reconciler's status writes, JOSDK's finalizer patches with server-side apply off, and the Lease
 * of leader election). A verb the code starts to use needs a line in {@link #USED} and in the YAML,
 * with a comment saying why; a rule deleted from the YAML fails the coverage tests.
 *
 * <p>The checks are public static methods on parsed documents ({@link #load}, {@link #parse}), so
 * that RBAC from elsewhere, a rendered Helm chart for one, can be held to the same rules: {@link
 * #rbacProblems} runs them all, with {@link #needed} saying what the operator must be granted in a
 * namespace.
 */
public class RbacManifestsTest {

  static final Path DEPLOY = Path.of("deploy");
  private static final Path CRDS = Path.of("crds");

  /** Name and namespace of the operator's ServiceAccount. */
  static final String OPERATOR = "harbor-robot-operator";

  /** The operator's ServiceAccount in {@code deploy/}. */
  public static final Account OPERATOR_ACCOUNT = new Account(OPERATOR, OPERATOR);

  /** The watched namespace of the template in rbac-namespaced.yaml. */
  private static final String WATCHED = "team-a";

  private static final Set<String> READ = Set.of("get", "list", "watch");
  private static final Set<String> SECRET_VERBS =
      Set.of("get", "list", "watch", "create", "update", "delete");

  /**
   * Every verb the operator sends, per resource ({@code plural.group/subresource}, core resources
   * without a group). Nothing else may be granted, and all of it must be: where, {@link #needed}
   * says.
   */
  public static final Map<String, Set<String>> USED =
      Map.ofEntries(
          // JOSDK's informer and its re-read after a conflict; finalizers by JSON patch
          Map.entry("harborrobots.harborrobot.io", Set.of("get", "list", "watch", "patch")),
          // PrimaryUpdateAndCacheUtils.updateStatusAndCacheResource: a PUT on /status
          Map.entry("harborrobots.harborrobot.io/status", Set.of("update")),
          // owner references with blockOwnerDeletion (OwnerReferencesPermissionEnforcement)
          Map.entry("harborrobots.harborrobot.io/finalizers", Set.of("update")),
          Map.entry("harborconnections.harborrobot.io", READ),
          Map.entry("harborconnections.harborrobot.io/status", Set.of("update")),
          Map.entry("clusterharborconnections.harborrobot.io", READ),
          Map.entry("clusterharborconnections.harborrobot.io/status", Set.of("update")),
          // CredentialSecretStore and HarborSessions: never patch
          Map.entry("secrets", SECRET_VERBS),
          // EventRecorder: create only
          Map.entry("events", Set.of("create")),
          // PullSecretLinks: imagePullSecrets of the ServiceAccounts a HarborRobot names
          Map.entry("serviceaccounts", Set.of("get", "list", "watch", "update")),
          // namespaceSelector of ClusterHarborConnection access rules
          Map.entry("namespaces", READ),
          // leader election: fabric8's LeaderElector reads, creates and renews (PUT) the Lease;
          // JOSDK checks exactly these three verbs at start-up
          Map.entry("leases.coordination.k8s.io", Set.of("get", "create", "update", "patch")));

  /** The resources of {@link #USED} that only a ClusterRole can grant. */
  private static final Set<String> CLUSTER_SCOPED =
      Set.of(
          "clusterharborconnections.harborrobot.io",
          "clusterharborconnections.harborrobot.io/status",
          "namespaces");

  /** The resources of {@link #USED} needed in the operator's own namespace only. */
  private static final Set<String> OPERATOR_NAMESPACE_ONLY = Set.of("leases.coordination.k8s.io");

  /** The only roles that may grant Secrets, each with the verbs it may grant on them. */
  private static final Map<String, Set<String>> SECRET_GRANTORS =
      Map.of(
          "rbac.yaml: ClusterRole harbor-robot-operator",
          SECRET_VERBS,
          "rbac-namespaced.yaml: Role team-a/harbor-robot-operator",
          SECRET_VERBS,
          "rbac-namespaced.yaml: Role"
              + " harbor-robot-operator/harbor-robot-operator-connection-credentials",
          Set.of("get"));

  /** The kinds these checks are about; other documents are left out of them. */
  public static final Set<String> KINDS =
      Set.of("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding");

  /** The other kinds {@code deploy/} holds, checked by {@link DeployManifestsTest}. */
  static final Set<String> WORKLOAD_KINDS = Set.of("Namespace", "Deployment", "Service");

  /** A ServiceAccount, the one the operator runs as. */
  public record Account(String namespace, String name) {
    boolean is(Subject s) {
      return "ServiceAccount".equals(s.getKind())
          && name.equals(s.getName())
          && namespace.equals(s.getNamespace());
    }
  }

  /**
   * One YAML document and the file it came from. Documents of one file are applied together: a
   * binding must refer to a role of its own file, and that file must define the ServiceAccount
   * (give every document of a rendered Helm chart the same file name).
   */
  public record Doc(String file, HasMetadata resource) {
    String describe() {
      String ns = resource.getMetadata().getNamespace();
      String name = resource.getMetadata().getName();
      return file + ": " + resource.getKind() + " " + (ns == null ? name : ns + "/" + name);
    }

    List<PolicyRule> rules() {
      List<PolicyRule> rules =
          resource instanceof ClusterRole c
              ? c.getRules()
              : resource instanceof Role r ? r.getRules() : null;
      return rules == null ? List.of() : rules;
    }
  }

  /** The RBAC documents of {@code deploy/}. */
  private static List<Doc> all;

  @BeforeAll
  static void loadDeployFolder() throws IOException {
    List<Doc> everything = load(DEPLOY);
    assertThat(everything)
        .allSatisfy(
            d ->
                assertThat(d.resource().getKind())
                    .as(d.describe())
                    .isIn(union(KINDS, WORKLOAD_KINDS)));
    all = rbacOnly(everything);
  }

  @Test
  void theDeployFolderHoldsBothModesAsRbacObjectsKubernetesKnows() {
    assertThat(all).extracting(Doc::file).contains("rbac.yaml", "rbac-namespaced.yaml");
    assertThat(all)
        .allSatisfy(
            d -> assertThat(d.resource().getMetadata().getName()).as(d.describe()).isNotBlank());
    // a misspelt field (verb: instead of verbs:) would otherwise be dropped without a word
    assertThat(unknownFields(all)).isEmpty();
  }

  @Test
  void noRuleGrantsAWildcard() {
    assertThat(wildcards(all)).isEmpty();
  }

  @Test
  void everyVerbIsOneTheOperatorUses() {
    assertThat(verbsBeyondUse(all)).isEmpty();
  }

  @Test
  void onlyTheRolesDocumentedForThemGrantSecrets() {
    assertThat(secretGrantsOutsideTheirRoles(all)).isEmpty();
  }

  @Test
  void everyBindingGivesARoleOfItsFileToTheOperatorServiceAccountOnly() {
    assertThat(bindingProblems(all, OPERATOR_ACCOUNT)).isEmpty();
  }

  @Test
  void allNamespacesModeGrantsExactlyWhatTheOperatorUsesInEveryNamespace() {
    List<Doc> rbac = file("rbac.yaml");
    assertThat(difference(needed(true, false), grants(rbac, OPERATOR_ACCOUNT, WATCHED))).isEmpty();
    assertThat(
            difference(needed(true, false), grants(rbac, OPERATOR_ACCOUNT, "any-other-namespace")))
        .isEmpty();
    // and in its own namespace the Lease as well
    assertThat(difference(needed(true, true), grants(rbac, OPERATOR_ACCOUNT, OPERATOR))).isEmpty();
  }

  @Test
  void namespacedModeGrantsExactlyWhatTheOperatorUsesInTheWatchedNamespace() {
    assertThat(
            difference(
                needed(true, false),
                grants(file("rbac-namespaced.yaml"), OPERATOR_ACCOUNT, WATCHED)))
        .isEmpty();
  }

  @Test
  void namespacedModeGrantsNothingNamespacedElsewhere() {
    List<Doc> namespaced = file("rbac-namespaced.yaml");
    assertThat(difference(needed(false, false), grants(namespaced, OPERATOR_ACCOUNT, "team-b")))
        .isEmpty();
    // the operator's namespace: also the Harbor credentials of ClusterHarborConnections, read
    // only, and the Lease
    assertThat(difference(needed(false, true), grants(namespaced, OPERATOR_ACCOUNT, OPERATOR)))
        .isEmpty();
  }

  @Test
  void leasesAreGrantedInTheOperatorsNamespaceOnly() {
    Map<String, Set<String>> lease =
        Map.of("leases.coordination.k8s.io", Set.of("get", "create", "update", "patch"));
    for (String name : List.of("rbac.yaml", "rbac-namespaced.yaml")) {
      assertThat(grants(file(name), OPERATOR_ACCOUNT, OPERATOR))
          .as(name)
          .containsAllEntriesOf(lease);
      assertThat(grants(file(name), OPERATOR_ACCOUNT, WATCHED))
          .as(name)
          .doesNotContainKey("leases.coordination.k8s.io");
    }
    assertThat(needed(true, false))
        .doesNotContainKeys(OPERATOR_NAMESPACE_ONLY.toArray(String[]::new));
    assertThat(needed(false, true)).containsAllEntriesOf(lease);
  }

  /** {@link #rbacProblems}, which another test may run on RBAC of its own, passes both files. */
  @Test
  void bothFilesPassEveryCheckAtOnce() {
    assertThat(
            rbacProblems(
                file("rbac.yaml"),
                OPERATOR_ACCOUNT,
                Map.of(
                    WATCHED,
                    needed(true, false),
                    "any-other-namespace",
                    needed(true, false),
                    OPERATOR,
                    needed(true, true))))
        .isEmpty();
    assertThat(
            rbacProblems(
                file("rbac-namespaced.yaml"),
                OPERATOR_ACCOUNT,
                Map.of(
                    WATCHED,
                    needed(true, false),
                    "team-b",
                    needed(false, false),
                    OPERATOR,
                    needed(false, true))))
        .isEmpty();
    // the same files, held to another mode, fail
    assertThat(
            rbacProblems(
                file("rbac-namespaced.yaml"),
                OPERATOR_ACCOUNT,
                Map.of("team-b", needed(true, false))))
        .contains("in namespace team-b: missing: harborrobots.harborrobot.io get");
    assertThat(
            rbacProblems(
                file("rbac.yaml"), new Account("other", OPERATOR), Map.of(OPERATOR, Map.of())))
        .anyMatch(
            p -> p.contains("binds ServiceAccount harbor-robot-operator/harbor-robot-operator"))
        .anyMatch(p -> p.contains("does not define the operator's ServiceAccount"));
  }

  @Test
  void everyCustomResourceOfTheOperatorIsReadableAndItsStatusWritable() throws IOException {
    List<CustomResourceDefinition> crds = new ArrayList<>();
    try (Stream<Path> files = Files.list(CRDS)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yml")).sorted().toList()) {
        try (InputStream in = Files.newInputStream(file)) {
          crds.add(Serialization.unmarshal(in, CustomResourceDefinition.class));
        }
      }
    }
    assertThat(crds).isNotEmpty();
    for (CustomResourceDefinition crd : crds) {
      String resource = crd.getSpec().getNames().getPlural() + "." + crd.getSpec().getGroup();
      assertThat(USED.get(resource)).as(resource).containsAll(READ);
      assertThat(USED.get(resource + "/status")).as(resource + "/status").contains("update");
      assertThat(CLUSTER_SCOPED.contains(resource))
          .as("%s is %s", resource, crd.getSpec().getScope())
          .isEqualTo("Cluster".equals(crd.getSpec().getScope()));
    }
  }

  /** The checks above must be able to fail: a manifest that breaks each rule is caught. */
  @Test
  void theChecksCatchWildcardsExtraVerbsStraySecretsAndForeignSubjects() {
    List<Doc> bad =
        parse(
            "bad.yaml",
            """
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRole
                metadata: {name: too-much}
                rules:
                  - apiGroups: [""]
                    resources: ["secrets", "pods"]
                    verbs: ["get", "patch"]
                  - apiGroups: ["harborrobot.io"]
                    resources: ["*"]
                    verbs: ["*"]
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRoleBinding
                metadata: {name: too-much}
                roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: too-much}
                subjects:
                  - {kind: ServiceAccount, name: harbor-robot-operator, namespace: harbor-robot-operator}
                  - {kind: ServiceAccount, name: default, namespace: default}
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: RoleBinding
                metadata: {name: dangling, namespace: team-a}
                roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: missing}
                subjects:
                  - {kind: ServiceAccount, name: harbor-robot-operator, namespace: harbor-robot-operator}
                """);

    assertThat(wildcards(bad)).hasSize(2);
    assertThat(verbsBeyondUse(bad))
        .anyMatch(p -> p.contains("secrets patch"))
        .anyMatch(p -> p.contains("pods get"));
    assertThat(secretGrantsOutsideTheirRoles(bad)).isNotEmpty();
    assertThat(bindingProblems(bad, OPERATOR_ACCOUNT))
        .anyMatch(p -> p.contains("binds ServiceAccount default/default"))
        .anyMatch(p -> p.contains("refers to Role missing"))
        .anyMatch(p -> p.contains("does not define the operator's ServiceAccount"));
    assertThat(difference(USED, grants(bad, OPERATOR_ACCOUNT, WATCHED)))
        .contains("missing: events create", "extra: pods get");
    assertThat(rbacProblems(bad, OPERATOR_ACCOUNT, Map.of(WATCHED, needed(true, false))))
        .anyMatch(p -> p.contains("wildcard"))
        .anyMatch(p -> p.contains("grants pods get"))
        .anyMatch(p -> p.contains("binds ServiceAccount default/default"))
        .contains("in namespace team-a: missing: events create");
  }

  /** A Lease granted beyond the operator's namespace, or by a ClusterRole, is caught. */
  @Test
  void theChecksCatchLeasesGrantedOutsideTheOperatorsNamespace() {
    List<Doc> clusterWide =
        parse(
            "leases.yaml",
            """
                apiVersion: v1
                kind: ServiceAccount
                metadata: {name: harbor-robot-operator, namespace: harbor-robot-operator}
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRole
                metadata: {name: leases}
                rules:
                  - apiGroups: ["coordination.k8s.io"]
                    resources: ["leases"]
                    verbs: ["get", "create", "update", "delete"]
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRoleBinding
                metadata: {name: leases}
                roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: leases}
                subjects:
                  - {kind: ServiceAccount, name: harbor-robot-operator, namespace: harbor-robot-operator}
                """);
    assertThat(verbsBeyondUse(clusterWide))
        .anyMatch(p -> p.contains("leases.coordination.k8s.io delete"));
    assertThat(difference(needed(false, false), grants(clusterWide, OPERATOR_ACCOUNT, WATCHED)))
        .contains("extra: leases.coordination.k8s.io get");
  }

  // --- the checks, each returning what it found wrong ---------------------------------------

  /**
   * Every check of this class that does not depend on {@code deploy/}'s file names, on RBAC
   * documents from anywhere (other kinds among {@code docs} are ignored): no wildcard or
   * aggregation, no unknown field, no verb the operator does not use, every binding gives a role of
   * its file to {@code account} only, and in each namespace of {@code expected} {@code account} may
   * do exactly what it maps to (see {@link #needed}). Problems in a namespace start with "in
   * namespace NAME: ".
   */
  public static List<String> rbacProblems(
      List<Doc> docs, Account account, Map<String, Map<String, Set<String>>> expected) {
    List<Doc> rbac = rbacOnly(docs);
    List<String> problems = new ArrayList<>();
    problems.addAll(unknownFields(rbac));
    problems.addAll(wildcards(rbac));
    problems.addAll(verbsBeyondUse(rbac));
    problems.addAll(bindingProblems(rbac, account));
    new TreeMap<>(expected)
        .forEach(
            (namespace, verbs) ->
                difference(verbs, grants(rbac, account, namespace))
                    .forEach(p -> problems.add("in namespace " + namespace + ": " + p)));
    return problems;
  }

  /**
   * What the operator needs in one namespace, all of it from {@link #USED}: what is cluster-scoped
   * (a ClusterRole grants it in every namespace); if the namespace is watched, everything
   * namespaced the reconcilers use; if it is the operator's own namespace, the Lease of leader
   * election and {@code get} on the Secrets that ClusterHarborConnections name there.
   */
  public static Map<String, Set<String>> needed(boolean watched, boolean operatorNamespace) {
    Map<String, Set<String>> needed = new TreeMap<>();
    USED.forEach(
        (resource, verbs) -> {
          boolean wanted =
              CLUSTER_SCOPED.contains(resource)
                  || (watched && !OPERATOR_NAMESPACE_ONLY.contains(resource))
                  || (operatorNamespace && OPERATOR_NAMESPACE_ONLY.contains(resource));
          if (wanted) {
            needed.put(resource, new TreeSet<>(verbs));
          }
        });
    if (operatorNamespace) {
      needed.computeIfAbsent("secrets", r -> new TreeSet<>()).add("get");
    }
    return needed;
  }

  static List<String> wildcards(List<Doc> docs) {
    List<String> problems = new ArrayList<>();
    for (Doc doc : docs) {
      if (doc.resource() instanceof ClusterRole c && c.getAggregationRule() != null) {
        problems.add(doc.describe() + " aggregates other ClusterRoles");
      }
      for (PolicyRule rule : doc.rules()) {
        Map<String, List<String>> fields = new TreeMap<>();
        fields.put("apiGroups", orEmpty(rule.getApiGroups()));
        fields.put("resources", orEmpty(rule.getResources()));
        fields.put("verbs", orEmpty(rule.getVerbs()));
        fields.put("resourceNames", orEmpty(rule.getResourceNames()));
        fields.put("nonResourceURLs", orEmpty(rule.getNonResourceURLs()));
        fields.forEach(
            (field, values) -> {
              if (values.stream().anyMatch(v -> v.contains("*"))) {
                problems.add(doc.describe() + " has a wildcard in " + field + ": " + values);
              }
            });
      }
    }
    return problems;
  }

  static List<String> verbsBeyondUse(List<Doc> docs) {
    List<String> problems = new ArrayList<>();
    for (Doc doc : docs) {
      for (PolicyRule rule : doc.rules()) {
        if (!orEmpty(rule.getNonResourceURLs()).isEmpty()) {
          problems.add(doc.describe() + " grants non-resource URLs");
        }
        if (orEmpty(rule.getVerbs()).isEmpty() || orEmpty(rule.getResources()).isEmpty()) {
          problems.add(doc.describe() + " has a rule without verbs or resources");
        }
        forEachGrant(
            rule,
            (resource, verb) -> {
              if (!USED.getOrDefault(resource, Set.of()).contains(verb)) {
                problems.add(doc.describe() + " grants " + resource + " " + verb);
              }
            });
      }
    }
    return problems;
  }

  static List<String> secretGrantsOutsideTheirRoles(List<Doc> docs) {
    List<String> problems = new ArrayList<>();
    for (Doc doc : docs) {
      for (PolicyRule rule : doc.rules()) {
        forEachGrant(
            rule,
            (resource, verb) -> {
              if (resource.equals("secrets")
                  && !SECRET_GRANTORS.getOrDefault(doc.describe(), Set.of()).contains(verb)) {
                problems.add(doc.describe() + " grants secrets " + verb);
              }
            });
      }
    }
    return problems;
  }

  static List<String> bindingProblems(List<Doc> docs, Account account) {
    List<String> problems = new ArrayList<>();
    for (Doc doc : docs) {
      List<Subject> subjects;
      RoleRef roleRef;
      String namespace = doc.resource().getMetadata().getNamespace();
      if (doc.resource() instanceof ClusterRoleBinding b) {
        subjects = b.getSubjects();
        roleRef = b.getRoleRef();
        if (roleRef != null && !"ClusterRole".equals(roleRef.getKind())) {
          problems.add(doc.describe() + " refers to a " + roleRef.getKind());
        }
      } else if (doc.resource() instanceof RoleBinding b) {
        subjects = b.getSubjects();
        roleRef = b.getRoleRef();
      } else {
        continue;
      }
      for (Subject s : orEmpty(subjects)) {
        if (!account.is(s)) {
          problems.add(
              doc.describe()
                  + " binds "
                  + s.getKind()
                  + " "
                  + s.getNamespace()
                  + "/"
                  + s.getName());
        }
      }
      if (orEmpty(subjects).isEmpty()) {
        problems.add(doc.describe() + " has no subject");
      }
      if (roleRef == null || role(docs, doc.file(), roleRef, namespace) == null) {
        problems.add(
            doc.describe()
                + " refers to "
                + (roleRef == null ? "nothing" : roleRef.getKind() + " " + roleRef.getName())
                + ", which its file does not define");
      }
      boolean accountDefined =
          docs.stream()
              .anyMatch(
                  d ->
                      d.file().equals(doc.file())
                          && d.resource() instanceof ServiceAccount sa
                          && account.name().equals(sa.getMetadata().getName())
                          && account.namespace().equals(sa.getMetadata().getNamespace()));
      if (!accountDefined) {
        problems.add(doc.file() + " does not define the operator's ServiceAccount");
      }
    }
    return problems;
  }

  /**
   * What {@code account} may do in {@code namespace}: the rules of the ClusterRoles bound to it
   * cluster-wide plus those of the roles bound to it in that namespace.
   */
  public static Map<String, Set<String>> grants(List<Doc> docs, Account account, String namespace) {
    Map<String, Set<String>> grants = new TreeMap<>();
    for (Doc doc : docs) {
      Doc role = null;
      if (doc.resource() instanceof ClusterRoleBinding b
          && orEmpty(b.getSubjects()).stream().anyMatch(account::is)
          && "ClusterRole".equals(b.getRoleRef().getKind())) {
        role = role(docs, doc.file(), b.getRoleRef(), null);
      } else if (doc.resource() instanceof RoleBinding b
          && namespace.equals(b.getMetadata().getNamespace())
          && orEmpty(b.getSubjects()).stream().anyMatch(account::is)) {
        role = role(docs, doc.file(), b.getRoleRef(), namespace);
      }
      if (role != null) {
        role.rules()
            .forEach(
                rule ->
                    forEachGrant(
                        rule,
                        (resource, verb) ->
                            grants.computeIfAbsent(resource, r -> new TreeSet<>()).add(verb)));
      }
    }
    return grants;
  }

  /** What {@code actual} lacks of {@code expected}, and what it has beyond it. */
  public static List<String> difference(
      Map<String, Set<String>> expected, Map<String, Set<String>> actual) {
    List<String> problems = new ArrayList<>();
    expected.forEach(
        (resource, verbs) ->
            verbs.stream()
                .sorted()
                .filter(v -> !actual.getOrDefault(resource, Set.of()).contains(v))
                .forEach(v -> problems.add("missing: " + resource + " " + v)));
    actual.forEach(
        (resource, verbs) ->
            verbs.stream()
                .sorted()
                .filter(v -> !expected.getOrDefault(resource, Set.of()).contains(v))
                .forEach(v -> problems.add("extra: " + resource + " " + v)));
    return problems;
  }

  static List<String> unknownFields(List<Doc> docs) {
    List<String> problems = new ArrayList<>();
    for (Doc doc : docs) {
      HasMetadata r = doc.resource();
      checkKnown(problems, doc, "the object", additional(r));
      checkKnown(problems, doc, "metadata", r.getMetadata().getAdditionalProperties());
      doc.rules()
          .forEach(rule -> checkKnown(problems, doc, "a rule", rule.getAdditionalProperties()));
      List<Subject> subjects =
          r instanceof ClusterRoleBinding b
              ? b.getSubjects()
              : r instanceof RoleBinding b ? b.getSubjects() : List.of();
      orEmpty(subjects)
          .forEach(s -> checkKnown(problems, doc, "a subject", s.getAdditionalProperties()));
    }
    return problems;
  }

  // --- helpers ------------------------------------------------------------------------------

  private interface GrantConsumer {
    void accept(String resource, String verb);
  }

  /** Calls {@code consumer} for every (resource, verb) pair a rule grants. */
  private static void forEachGrant(PolicyRule rule, GrantConsumer consumer) {
    for (String group : orEmpty(rule.getApiGroups())) {
      for (String resource : orEmpty(rule.getResources())) {
        for (String verb : orEmpty(rule.getVerbs())) {
          consumer.accept(key(group, resource), verb);
        }
      }
    }
  }

  /** {@code plural.group/subresource}, as kubectl writes it; core resources have no group. */
  static String key(String group, String resource) {
    int slash = resource.indexOf('/');
    String plural = slash < 0 ? resource : resource.substring(0, slash);
    String subresource = slash < 0 ? "" : resource.substring(slash);
    return plural + (group.isEmpty() ? "" : "." + group) + subresource;
  }

  private static Doc role(List<Doc> docs, String file, RoleRef ref, String namespace) {
    return docs.stream()
        .filter(d -> d.file().equals(file))
        .filter(d -> d.resource().getKind().equals(ref.getKind()))
        .filter(d -> d.resource().getMetadata().getName().equals(ref.getName()))
        .filter(
            d ->
                "ClusterRole".equals(ref.getKind())
                    || Objects.equals(d.resource().getMetadata().getNamespace(), namespace))
        .findFirst()
        .orElse(null);
  }

  private static List<Doc> file(String name) {
    List<Doc> docs = all.stream().filter(d -> d.file().equals(name)).toList();
    assertThat(docs).as("documents of deploy/%s", name).isNotEmpty();
    return docs;
  }

  /** Every document of every YAML file of {@code folder}, in file name order. */
  public static List<Doc> load(Path folder) throws IOException {
    List<Doc> docs = new ArrayList<>();
    try (Stream<Path> files = Files.list(folder)) {
      for (Path file :
          files
              .filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml"))
              .sorted()
              .toList()) {
        try (InputStream in = Files.newInputStream(file)) {
          docs.addAll(documents(file.getFileName().toString(), Serialization.unmarshal(in)));
        }
      }
    }
    return docs;
  }

  /** The documents of one YAML text (several, separated by {@code ---}), all from {@code file}. */
  public static List<Doc> parse(String file, String yaml) {
    return documents(file, Serialization.<Object>unmarshal(yaml));
  }

  static List<Doc> rbacOnly(List<Doc> docs) {
    return docs.stream().filter(d -> KINDS.contains(d.resource().getKind())).toList();
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> union = new TreeSet<>(a);
    union.addAll(b);
    return union;
  }

  private static List<Doc> documents(String file, Object parsed) {
    Collection<?> items =
        parsed instanceof KubernetesList list
            ? list.getItems()
            : parsed instanceof Collection<?> c ? c : List.of(parsed);
    return items.stream()
        .filter(Objects::nonNull)
        .map(
            item -> {
              assertThat(item).as("a document of %s", file).isInstanceOf(HasMetadata.class);
              return new Doc(file, (HasMetadata) item);
            })
        .collect(Collectors.toList());
  }

  private static Map<String, Object> additional(HasMetadata r) {
    if (r instanceof ClusterRole x) {
      return x.getAdditionalProperties();
    }
    if (r instanceof Role x) {
      return x.getAdditionalProperties();
    }
    if (r instanceof ClusterRoleBinding x) {
      return x.getAdditionalProperties();
    }
    if (r instanceof RoleBinding x) {
      return x.getAdditionalProperties();
    }
    if (r instanceof ServiceAccount x) {
      return x.getAdditionalProperties();
    }
    return Map.of("kind", r.getKind());
  }

  private static void checkKnown(
      List<String> problems, Doc doc, String where, Map<String, Object> additional) {
    if (additional != null && !additional.isEmpty()) {
      problems.add(doc.describe() + ": unknown fields in " + where + ": " + additional.keySet());
    }
  }

  private static <T> List<T> orEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }
}
