package io.harborrobot.operator.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.harborrobot.operator.validation.CelRule;
import io.harborrobot.operator.validation.ManifestValidator;
import io.harborrobot.operator.validation.Violation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Pins every CEL validation rule ({@code x-kubernetes-validations}) of the CRDs committed under
 * {@code crds/} with objects a Kubernetes API server must accept and objects it must reject, since
 * no real API server is available to the tests. The objects go through {@link ManifestValidator},
 * the same validation the sandbox applies to manifests: decoding (unknown fields, defaulting),
 * metadata, the OpenAPI schema, then the CEL rules compiled and evaluated with CEL-Java as an API
 * server does (see {@code io.harborrobot.operator.validation.CelRules} for what is and is not
 * reproduced).
 *
 * <p>The table {@link #CASES} maps every rule, by CRD, location and exact rule text, to objects the
 * API server must accept and objects it must reject. A rule found in the CRDs without an entry, or
 * whose text changed, fails {@link #everyRuleInTheCrdsHasAcceptAndRejectCases()}. Every case object
 * must pass the metadata and OpenAPI schema checks (so that the CEL rule, not the schema, is what
 * decides), an accepted object must pass every rule of its CRD, and a rejected object must be
 * rejected by the rule under test only, with its message in kubectl's output.
 */
class CrdCelRulesTest {

  private static final Path CRDS = Path.of("crds");
  private static final Path EXAMPLES = Path.of("examples");

  private static final YAMLMapper YAML =
      YAMLMapper.builder()
          .enable(DeserializationFeature.USE_LONG_FOR_INTS)
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .build();

  // ------------------------------------------------------------------------------------------
  // The cases: rule → objects Kubernetes must accept and objects it must reject.
  // ------------------------------------------------------------------------------------------

  private static final String ROBOTS = "harborrobots.harborrobot.io/v1alpha1";
  private static final String CONNECTIONS = "harborconnections.harborrobot.io/v1alpha1";
  private static final String CLUSTER_CONNECTIONS =
      "clusterharborconnections.harborrobot.io/v1alpha1";

  /** examples/00-harbor-connection.yaml */
  private static final String CONNECTION_SPEC =
      """
      url: https://harbor.example.com
      credentialsSecretRef:
        name: harbor-admin
      """;

  private static final String CA_SECRET = "caSecretRef:\n  name: harbor-ca\n";

  private static final String CA_BUNDLE =
      "caBundle: |\n  -----BEGIN CERTIFICATE-----\n  MIIB\n  -----END CERTIFICATE-----\n";

  private static final String CLUSTER_CONNECTION_SPEC =
      """
      url: https://harbor.example.com
      credentialsSecretRef:
        name: harbor-admin
        namespace: harbor-robot-operator
      access:
        - namespaces: [team-a]
          projects: [team-a, team-a-*]
      """;

  /** examples/pull-robot.yaml */
  private static final String PULL_SPEC =
      """
      connectionRef:
        name: harbor
      project: team-a
      preset: Pull
      description: Image pulls for team-a workloads
      secret:
        name: team-a-pull
      """;

  /** examples/gitlab-ci-robot.yaml */
  private static final String CI_SPEC =
      """
      connectionRef:
        name: harbor
      project: team-a
      permissions:
        - resource: repository
          actions: [pull, push, list]
        - resource: artifact
          actions: [list, read]
        - resource: tag
          actions: [list]
      description: GitLab pipeline robot
      durationDays: 90
      rotation:
        renewBeforeDays: 7
      deletionPolicy: Delete
      """;

  /** examples/system-robot.yaml */
  private static final String SYSTEM_SPEC =
      """
      connectionRef:
        name: harbor
      level: System
      description: Scans and pulls across projects
      projects:
        - name: team-a
          preset: Pull
        - name: "*"
          preset: Pull
      """;

  private static final String PUSH_PULL_GRANT =
      """
        - name: team-b
          permissions:
            - resource: repository
              actions: [pull, push]
      """;

  private static final String NO_ACCESS_SPEC =
      """
      connectionRef:
        name: harbor
      project: team-a
      """;

  private static final Map<String, RuleCases> CASES =
      table(
          // -------------------------------------------------------------- connections
          rule(
              CONNECTIONS,
              ".",
              "!has(self.spec.credentialsSecretRef.__namespace__)",
              accept(
                  "credentials in its own namespace",
                  connection("HarborConnection", CONNECTION_SPEC)),
              reject(
                  "credentials in another namespace",
                  connection(
                      "HarborConnection",
                      CONNECTION_SPEC.replace(
                          "name: harbor-admin", "name: harbor-admin\n  namespace: team-b")),
                  "reads its credentials from its own namespace")),
          rule(
              CONNECTIONS,
              ".",
              "!has(self.spec.caSecretRef) || !has(self.spec.caSecretRef.__namespace__)",
              accept("no CA Secret", connection("HarborConnection", CONNECTION_SPEC)),
              accept(
                  "a CA Secret in its own namespace",
                  connection(
                      "HarborConnection", CONNECTION_SPEC + "caSecretRef:\n  name: harbor-ca\n")),
              reject(
                  "a CA Secret in another namespace",
                  connection(
                      "HarborConnection",
                      CONNECTION_SPEC + "caSecretRef:\n  name: harbor-ca\n  namespace: team-b\n"),
                  "reads its CA from its own namespace")),
          rule(
              CLUSTER_CONNECTIONS,
              ".",
              "has(self.spec.credentialsSecretRef.__namespace__)",
              accept(
                  "credentials with a namespace",
                  connection("ClusterHarborConnection", CLUSTER_CONNECTION_SPEC)),
              reject(
                  "credentials without a namespace",
                  connection(
                      "ClusterHarborConnection",
                      CLUSTER_CONNECTION_SPEC.replace("  namespace: harbor-robot-operator\n", "")),
                  "credentialsSecretRef.namespace is required")),
          rule(
              CLUSTER_CONNECTIONS,
              ".",
              "!has(self.spec.caSecretRef) || has(self.spec.caSecretRef.__namespace__)",
              accept(
                  "no CA Secret", connection("ClusterHarborConnection", CLUSTER_CONNECTION_SPEC)),
              accept(
                  "a CA Secret with a namespace",
                  connection(
                      "ClusterHarborConnection",
                      CLUSTER_CONNECTION_SPEC
                          + "caSecretRef:\n  name: harbor-ca\n  namespace: harbor-robot-operator\n")),
              reject(
                  "a CA Secret without a namespace",
                  connection(
                      "ClusterHarborConnection",
                      CLUSTER_CONNECTION_SPEC + "caSecretRef:\n  name: harbor-ca\n"),
                  "caSecretRef.namespace is required")),
          rule(
              CLUSTER_CONNECTIONS,
              ".spec.access[*]",
              "has(self.namespaces) || has(self.namespaceSelector)",
              accept(
                  "namespaces by name",
                  connection("ClusterHarborConnection", CLUSTER_CONNECTION_SPEC)),
              accept(
                  "namespaces by label",
                  connection(
                      "ClusterHarborConnection",
                      CLUSTER_CONNECTION_SPEC.replace(
                          "- namespaces: [team-a]",
                          "- namespaceSelector:\n      matchLabels: {tenant: a}"))),
              reject(
                  "projects for no namespace",
                  connection(
                      "ClusterHarborConnection",
                      CLUSTER_CONNECTION_SPEC.replace(
                          "- namespaces: [team-a]\n    projects", "- projects")),
                  "an access rule needs namespaces or a namespaceSelector")),
          rule(
              CONNECTIONS,
              ".spec",
              "!has(self.caBundle) || !has(self.caSecretRef)",
              accept(
                  "only a CA Secret", connection("HarborConnection", CONNECTION_SPEC + CA_SECRET)),
              reject(
                  "both a CA bundle and a CA Secret",
                  connection("HarborConnection", CONNECTION_SPEC + CA_SECRET + CA_BUNDLE),
                  "set caBundle or caSecretRef, not both")),
          rule(
              CLUSTER_CONNECTIONS,
              ".spec",
              "!has(self.caBundle) || !has(self.caSecretRef)",
              accept(
                  "only a CA bundle",
                  connection("ClusterHarborConnection", CLUSTER_CONNECTION_SPEC + CA_BUNDLE)),
              reject(
                  "both a CA bundle and a CA Secret",
                  connection(
                      "ClusterHarborConnection",
                      CLUSTER_CONNECTION_SPEC
                          + CA_BUNDLE
                          + "caSecretRef:\n  name: harbor-ca\n  namespace: harbor-robot-operator\n"),
                  "set caBundle or caSecretRef, not both")),
          // -------------------------------------------------------------- root rules
          rule(
              ROBOTS,
              ".",
              "has(self.spec.robotName) ||"
                  + " self.metadata.name.matches('^[a-z0-9]+(?:[._-][a-z0-9]+)*$')",
              accept("metadata.name is a valid Harbor name", robot("gitlab-ci", CI_SPEC)),
              accept("dotted metadata.name", robot("team-a.pull", PULL_SPEC)),
              accept(
                  "metadata.name Harbor refuses, but spec.robotName is set",
                  robot("ci--pull", PULL_SPEC + "robotName: ci-pull\n")),
              reject(
                  "metadata.name with a double '-' and no spec.robotName",
                  robot("ci--pull", PULL_SPEC),
                  "metadata.name is not a valid Harbor robot name")),
          rule(
              ROBOTS,
              ".",
              "(has(self.spec.robotName) ? self.spec.robotName : self.metadata.name) =="
                  + " (has(oldSelf.spec.robotName) ? oldSelf.spec.robotName :"
                  + " oldSelf.metadata.name)",
              accept(
                  "create with a robotName (no old object)",
                  robot("app-pull", PULL_SPEC + "robotName: puller\n")),
              acceptUpdate(
                  "description changed, name untouched",
                  robot("app-pull", PULL_SPEC),
                  robot("app-pull", PULL_SPEC.replace("workloads", "pods"))),
              acceptUpdate(
                  "robotName set to the metadata.name it defaulted to",
                  robot("app-pull", PULL_SPEC),
                  robot("app-pull", PULL_SPEC + "robotName: app-pull\n")),
              acceptUpdate(
                  "robotName equal to metadata.name removed",
                  robot("app-pull", PULL_SPEC + "robotName: app-pull\n"),
                  robot("app-pull", PULL_SPEC)),
              acceptUpdate(
                  "robotName kept",
                  robot("app-pull", PULL_SPEC + "robotName: puller\n"),
                  robot("app-pull", PULL_SPEC.replace("Pull\n", "Push\n") + "robotName: puller\n")),
              rejectUpdate(
                  "robotName changed",
                  robot("app-pull", PULL_SPEC + "robotName: puller\n"),
                  robot("app-pull", PULL_SPEC + "robotName: puller2\n"),
                  "spec.robotName is immutable"),
              rejectUpdate(
                  "robotName set where it defaulted to a different metadata.name",
                  robot("app-pull", PULL_SPEC),
                  robot("app-pull", PULL_SPEC + "robotName: puller\n"),
                  "spec.robotName is immutable"),
              rejectUpdate(
                  "robotName removed, so it would fall back to a different metadata.name",
                  robot("app-pull", PULL_SPEC + "robotName: puller\n"),
                  robot("app-pull", PULL_SPEC),
                  "spec.robotName is immutable")),
          rule(
              ROBOTS,
              ".",
              "!has(self.spec.project) || size(self.spec.project) + size(has(self.spec.robotName) ?"
                  + " self.spec.robotName : self.metadata.name) < 255",
              accept("the examples' short names", robot("gitlab-ci", CI_SPEC)),
              accept("a system robot has no project", robot("scanner", SYSTEM_SPEC)),
              accept(
                  "project and robotName 254 characters together",
                  robot("app-pull", longNames(200, 54))),
              accept(
                  "project and metadata.name 254 characters together",
                  robot("gitlab-ci", longNames(245, 0))),
              reject(
                  "project and robotName 255 characters together",
                  robot("app-pull", longNames(200, 55)),
                  "project and robot name together must be shorter than 255 characters"),
              reject(
                  "project and metadata.name 255 characters together",
                  robot("gitlab-ci", longNames(246, 0)),
                  "project and robot name together must be shorter than 255 characters")),
          // -------------------------------------------------------------- spec rules
          rule(
              ROBOTS,
              ".spec",
              "has(self.level) && self.level == 'System' ? !has(self.preset) &&"
                  + " !has(self.permissions) : has(self.preset) != has(self.permissions)",
              accept("preset only", robot("app-pull", PULL_SPEC)),
              accept("a system robot with presets per project", robot("scanner", SYSTEM_SPEC)),
              reject(
                  "a system robot with a top-level preset",
                  robot("scanner", SYSTEM_SPEC + "preset: Pull\n"),
                  "set exactly one of preset or permissions"),
              accept("permissions only", robot("gitlab-ci", CI_SPEC)),
              reject(
                  "preset and permissions",
                  robot(
                      "gitlab-ci",
                      CI_SPEC
                          + """
                          preset: Push
                          """),
                  "set exactly one of preset or permissions"),
              reject(
                  "neither preset nor permissions",
                  robot("app-pull", NO_ACCESS_SPEC),
                  "set exactly one of preset or permissions")),
          rule(
              ROBOTS,
              ".spec",
              "!has(self.permissions) || !self.permissions.exists(p, p.resource == 'repository' &&"
                  + " 'push' in p.actions) || self.permissions.exists(p, p.resource =="
                  + " 'repository' && 'pull' in p.actions)",
              accept("push with pull", robot("gitlab-ci", CI_SPEC)),
              accept(
                  "repository pull only",
                  robot(
                      "app-pull",
                      NO_ACCESS_SPEC
                          + """
                          permissions:
                            - resource: repository
                              actions: [pull]
                          """)),
              accept(
                  "no repository entry",
                  robot(
                      "scanner",
                      NO_ACCESS_SPEC
                          + """
                          permissions:
                            - resource: artifact
                              actions: [read, list]
                            - resource: scan
                              actions: [create, read, stop]
                          """)),
              accept(
                  "preset Push, no permissions",
                  robot("app-push", PULL_SPEC.replace("Pull\n", "Push\n"))),
              reject(
                  "repository push and list without pull",
                  robot(
                      "gitlab-ci",
                      NO_ACCESS_SPEC
                          + """
                          permissions:
                            - resource: repository
                              actions: [push, list]
                            - resource: artifact
                              actions: [read]
                          """),
                  "repository push requires repository pull")),
          rule(
              ROBOTS,
              ".spec",
              "!has(self.rotation) || !has(self.rotation.renewBeforeDays) ||"
                  + " !has(self.durationDays) || self.durationDays == -1 ||"
                  + " self.rotation.renewBeforeDays < self.durationDays",
              accept("no rotation", robot("app-pull", PULL_SPEC)),
              accept("renew 7 days before a 90-day expiry", robot("gitlab-ci", CI_SPEC)),
              accept(
                  "everyDays only",
                  robot("gitlab-ci", CI_SPEC.replace("renewBeforeDays: 7", "everyDays: 30"))),
              accept(
                  "renewBeforeDays on a robot that never expires",
                  robot("app-pull", PULL_SPEC + "rotation:\n  renewBeforeDays: 7\n")),
              reject(
                  "renewing as early as the whole lifetime",
                  robot("gitlab-ci", CI_SPEC.replace("renewBeforeDays: 7", "renewBeforeDays: 90")),
                  "rotation.renewBeforeDays must be less than durationDays")),
          rule(
              ROBOTS,
              ".spec",
              "!has(self.permissions) || self.permissions.all(p, self.permissions.exists_one(q,"
                  + " q.resource == p.resource))",
              accept("distinct resources", robot("gitlab-ci", CI_SPEC)),
              accept("one entry", robot("app-pull", PULL_SPEC)),
              reject(
                  "repository in two entries",
                  robot(
                      "gitlab-ci",
                      NO_ACCESS_SPEC
                          + """
                          permissions:
                            - resource: repository
                              actions: [pull]
                            - resource: tag
                              actions: [list]
                            - resource: repository
                              actions: [push]
                          """),
                  "each resource may appear only once in permissions"),
              reject(
                  "the same entry twice",
                  robot(
                      "tags",
                      NO_ACCESS_SPEC
                          + """
                          permissions:
                            - resource: tag
                              actions: [list]
                            - resource: tag
                              actions: [list]
                          """),
                  "each resource may appear only once in permissions")),
          rule(
              ROBOTS,
              ".spec",
              "has(self.level) && self.level == 'System' ? !has(self.project) && has(self.projects)"
                  + " : has(self.project) && !has(self.projects)",
              accept("a project robot", robot("app-pull", PULL_SPEC)),
              accept("a system robot", robot("scanner", SYSTEM_SPEC)),
              reject(
                  "a system robot with a project",
                  robot("scanner", SYSTEM_SPEC + "project: team-a\n"),
                  "level System needs projects (not project)"),
              reject(
                  "a project robot with projects",
                  robot("app-pull", PULL_SPEC + "projects:\n  - name: team-b\n    preset: Pull\n"),
                  "level Project needs project (not projects)")),
          rule(
              ROBOTS,
              ".spec",
              "!has(self.projects) || self.projects.all(p, self.projects.exists_one(q, q.name =="
                  + " p.name))",
              accept("distinct projects", robot("scanner", SYSTEM_SPEC)),
              reject(
                  "a project twice",
                  robot("scanner", SYSTEM_SPEC + "  - name: team-a\n    preset: Push\n"),
                  "each project may appear only once in projects")),
          rule(
              ROBOTS,
              ".spec.projects[*]",
              "has(self.preset) != has(self.permissions)",
              accept("presets", robot("scanner", SYSTEM_SPEC)),
              reject(
                  "neither preset nor permissions",
                  robot("scanner", SYSTEM_SPEC + "  - name: team-c\n"),
                  "each entry of projects needs exactly one of preset or permissions")),
          rule(
              ROBOTS,
              ".spec.projects[*]",
              "!has(self.permissions) || !self.permissions.exists(p, p.resource == 'repository' &&"
                  + " 'push' in p.actions) || self.permissions.exists(p, p.resource =="
                  + " 'repository' && 'pull' in p.actions)",
              accept("push with pull", robot("scanner", SYSTEM_SPEC + PUSH_PULL_GRANT)),
              reject(
                  "push without pull",
                  robot("scanner", SYSTEM_SPEC + PUSH_PULL_GRANT.replace("[pull, push]", "[push]")),
                  "repository push requires repository pull")),
          rule(
              ROBOTS,
              ".spec.projects[*]",
              "!has(self.permissions) || self.permissions.all(p, self.permissions.exists_one(q,"
                  + " q.resource == p.resource))",
              accept("one entry per resource", robot("scanner", SYSTEM_SPEC + PUSH_PULL_GRANT)),
              reject(
                  "repository twice",
                  robot(
                      "scanner",
                      SYSTEM_SPEC
                          + PUSH_PULL_GRANT
                          + "      - resource: repository\n        actions: [list]\n"),
                  "each resource may appear only once in a project's permissions")),
          rule(
              ROBOTS,
              ".spec.projects[*].permissions[*]",
              ProjectPermissions.PAIR_RULE,
              accept("repository pull and push", robot("scanner", SYSTEM_SPEC + PUSH_PULL_GRANT)),
              reject(
                  "an action Harbor does not know",
                  robot(
                      "scanner",
                      SYSTEM_SPEC + PUSH_PULL_GRANT.replace("[pull, push]", "[pull, fly]")),
                  "actions allowed for repository are")),
          rule(
              ROBOTS,
              ".spec.level",
              "self == oldSelf",
              acceptUpdate(
                  "level unchanged",
                  robot("scanner", SYSTEM_SPEC),
                  robot("scanner", SYSTEM_SPEC.replace("Pull\n", "Push\n"))),
              rejectUpdate(
                  "a project robot turned into a system robot",
                  robot("scanner", PULL_SPEC),
                  robot("scanner", SYSTEM_SPEC),
                  "level is immutable")),
          rule(
              ROBOTS,
              ".spec",
              "!has(self.imagePullServiceAccounts) || size(self.imagePullServiceAccounts) == 0 ||"
                  + " !has(self.secret) || !has(self.secret.type) || self.secret.type =="
                  + " 'DockerConfigJson'",
              accept(
                  "a pull secret linked to a ServiceAccount",
                  robot("app-pull", PULL_SPEC + "imagePullServiceAccounts: [builder]\n")),
              accept(
                  "an Env Secret linked nowhere",
                  robot(
                      "app-pull",
                      PULL_SPEC.replace("name: team-a-pull", "name: team-a-pull\n  type: Env"))),
              reject(
                  "an Env Secret as a pull secret",
                  robot(
                      "app-pull",
                      PULL_SPEC.replace("name: team-a-pull", "name: team-a-pull\n  type: Env")
                          + "imagePullServiceAccounts: [builder]\n"),
                  "imagePullServiceAccounts needs secret.type DockerConfigJson")),
          // -------------------------------------------------------------- field and item rules
          rule(
              ROBOTS,
              ".spec.permissions[*]",
              ProjectPermissions.PAIR_RULE,
              accept("the GitLab CI permissions", robot("gitlab-ci", CI_SPEC)),
              accept(
                  "every pair Harbor allows for project robots", robot("all", everyAllowedPair())),
              reject(
                  "repository with an action Harbor does not know",
                  robot(
                      "app-pull",
                      NO_ACCESS_SPEC
                          + """
                          permissions:
                            - resource: repository
                              actions: [pull, fly]
                          """),
                  "actions allowed for repository are: read, update, delete, list, pull, push"),
              reject(
                  "an action Harbor allows elsewhere, not on robot",
                  robot(
                      "robots",
                      NO_ACCESS_SPEC
                          + """
                          permissions:
                            - resource: robot
                              actions: [read, update]
                          """),
                  "actions allowed for robot are: create, read, list, delete"),
              reject(
                  "a resource without project-level permissions",
                  robot(
                      "charts",
                      NO_ACCESS_SPEC
                          + """
                          permissions:
                            - resource: helm-chart
                              actions: [read]
                          """),
                  "unknown resource helm-chart")),
          rule(
              ROBOTS,
              ".spec.durationDays",
              "self == -1 || self >= 1",
              accept("90 days", robot("gitlab-ci", CI_SPEC)),
              accept("absent: defaulted to -1, never expires", robot("app-pull", PULL_SPEC)),
              accept("-1 given", robot("app-pull", PULL_SPEC + "durationDays: -1\n")),
              accept("1 day", robot("app-pull", PULL_SPEC + "durationDays: 1\n")),
              accept("3650 days", robot("app-pull", PULL_SPEC + "durationDays: 3650\n")),
              reject(
                  "0 days",
                  robot("app-pull", PULL_SPEC + "durationDays: 0\n"),
                  "durationDays must be -1 (never expires) or between 1 and 3650")),
          rule(
              ROBOTS,
              ".spec.project",
              "self == oldSelf",
              accept("create (no old object)", robot("app-pull", PULL_SPEC)),
              acceptUpdate(
                  "description changed, project kept",
                  robot("app-pull", PULL_SPEC),
                  robot("app-pull", PULL_SPEC.replace("workloads", "pods"))),
              rejectUpdate(
                  "project moved from team-a to team-b",
                  robot("app-pull", PULL_SPEC),
                  robot("app-pull", PULL_SPEC.replace("team-a\n", "team-b\n")),
                  "project is immutable")));

  // ------------------------------------------------------------------------------------------
  // The CRDs of crds/ and their rules, compiled once.
  // ------------------------------------------------------------------------------------------

  private static final ManifestValidator VALIDATOR = ManifestValidator.of(loadCrds());
  private static final List<CelRule> RULES = VALIDATOR.celRules();

  // ------------------------------------------------------------------------------------------
  // Tests
  // ------------------------------------------------------------------------------------------

  @Test
  void theCrdsHaveRules() {
    assertThat(RULES).extracting(CelRule::crd).contains(ROBOTS, CONNECTIONS, CLUSTER_CONNECTIONS);
    assertThat(RULES).as("x-kubernetes-validations found in crds/*.yml").isNotEmpty();
  }

  @Test
  void everyRuleInTheCrdsHasAcceptAndRejectCases() {
    List<String> missing = new ArrayList<>();
    for (CelRule rule : RULES) {
      RuleCases entry = CASES.get(key(rule));
      if (entry == null) {
        missing.add(
            "no cases for the rule at "
                + rule.crd()
                + " "
                + rule.location()
                + " (new, or its text changed): "
                + rule.rule());
        continue;
      }
      if (entry.cases().stream().noneMatch(Case::accept)) {
        missing.add("no object to accept for " + rule);
      }
      if (entry.cases().stream().allMatch(Case::accept)) {
        missing.add("no object to reject for " + rule);
      }
      if (rule.transition()) {
        if (entry.cases().stream().noneMatch(c -> c.accept() && c.oldObject() != null)) {
          missing.add("no update to accept for the transition rule " + rule);
        }
        if (entry.cases().stream().noneMatch(c -> !c.accept() && c.oldObject() != null)) {
          missing.add("no update to reject for the transition rule " + rule);
        }
      }
    }
    assertThat(missing).isEmpty();
  }

  @Test
  void everyCaseBelongsToARuleInTheCrds() {
    Set<String> found = RULES.stream().map(CrdCelRulesTest::key).collect(Collectors.toSet());
    assertThat(CASES.keySet())
        .as("cases for rules that are not in crds/*.yml (rule removed or its text changed)")
        .allSatisfy(key -> assertThat(found).contains(key));
  }

  @Test
  void thePackagedCrdsHaveTheSameRulesAndCompile() {
    List<CelRule> packaged = ManifestValidator.forPackagedCrds().celRules();
    assertThat(packaged)
        .as("the CRDs in the jar (META-INF/crds) are those of crds/")
        .extracting(CrdCelRulesTest::key)
        .containsExactlyInAnyOrderElementsOf(RULES.stream().map(CrdCelRulesTest::key).toList());
    assertThat(packaged).allSatisfy(r -> assertThat(r.compileErrors()).isEmpty());
  }

  @TestFactory
  Stream<DynamicContainer> eachRuleCompilesAndDecidesItsCases() {
    return RULES.stream()
        .map(
            rule ->
                dynamicContainer(
                    rule.toString(),
                    Stream.concat(
                        Stream.of(
                            dynamicTest(
                                "compiles as on a Kubernetes 1.29+ API server",
                                () -> assertCompiles(rule))),
                        casesOf(rule).stream().map(c -> caseTest(rule, c)))));
  }

  @Test
  void theSchemaRequiresSpecSoNoRuleHasToGuardAgainstItsAbsence() {
    ManifestValidator.Review review = VALIDATOR.review(parse(robot("app-pull", null)), null);
    assertThat(review.schemaViolations()).contains(new Violation("spec", Violation.REQUIRED, ""));
    assertThat(review.ruleFailures()).as("CEL rules do not run on such an object").isEmpty();
  }

  @Test
  void theExamplesPassEveryRule() throws IOException {
    List<String> checked = new ArrayList<>();
    try (Stream<Path> files = Files.list(EXAMPLES)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
        for (Object doc : readAll(Files.readString(file))) {
          Map<String, Object> object = asMap(doc);
          if (VALIDATOR.handles((String) object.get("apiVersion"), (String) object.get("kind"))) {
            String what =
                file + " " + object.get("kind") + " " + asMap(object.get("metadata")).get("name");
            assertThat(VALIDATOR.validate(object, null)).as(what).isEmpty();
            checked.add(what);
          }
        }
      }
    }
    assertThat(checked)
        .as("HarborRobots among the examples")
        .anyMatch(s -> s.contains("HarborRobot"));
  }

  // ------------------------------------------------------------------------------------------
  // Checking a rule
  // ------------------------------------------------------------------------------------------

  private static void assertCompiles(CelRule rule) {
    assertThat(rule.compileErrors())
        .as("rule at %s %s must compile: %s", rule.crd(), rule.location(), rule.rule())
        .isEmpty();
  }

  private static DynamicTest caseTest(CelRule rule, Case c) {
    String name =
        (c.accept() ? "accepts " : "rejects ")
            + (c.oldObject() == null ? "" : "update: ")
            + c.name();
    return dynamicTest(
        name,
        () -> {
          assertCompiles(rule);
          Map<String, Object> stored = null;
          if (c.oldObject() != null) {
            ManifestValidator.Review created =
                admit(rule, c.oldObject(), null, "old object of '" + c.name() + "'");
            assertThat(created.violations())
                .as("the old object of '%s' must have been accepted when created", c.name())
                .isEmpty();
            stored = created.object();
          }
          ManifestValidator.Review review = admit(rule, c.object(), stored, "'" + c.name() + "'");
          List<CelRule.Failure> failures = review.ruleFailures();
          if (c.accept()) {
            assertThat(failures).as("every rule must accept '%s'", c.name()).isEmpty();
            assertThat(review.violations()).isEmpty();
            return;
          }
          assertThat(failures).as("'%s' must be rejected", c.name()).isNotEmpty();
          assertThat(failures)
              .as("'%s' must be rejected by the rule under test only", c.name())
              .allSatisfy(f -> assertThat(f.rule()).isSameAs(rule));
          for (CelRule.Failure f : failures) {
            assertThat(f.problem()).as("%s", f).isNull();
            assertThat(f.message()).as("%s", f).isNotBlank().doesNotContain("\n", "\r");
            assertThat(f.message()).as("%s", f).contains(c.message());
            assertThat(f.violation().detail()).as("%s", f).contains(f.message());
          }
          assertThat(VALIDATOR.rejection(parse(c.object()), stored))
              .as("what kubectl prints for '%s'", c.name())
              .startsWith("The " + rule.kind() + " \"")
              .contains(c.message());
        });
  }

  /** Parses a case object and checks that only CEL rules can decide about it. */
  private static ManifestValidator.Review admit(
      CelRule rule, String yaml, Map<String, Object> stored, String what) {
    Map<String, Object> object = parse(yaml);
    assertThat(object.get("apiVersion")).as("%s apiVersion", what).isEqualTo(rule.apiVersion());
    assertThat(object.get("kind")).as("%s kind", what).isEqualTo(rule.kind());
    ManifestValidator.Review review = VALIDATOR.review(object, stored);
    assertThat(review.schemaViolations())
        .as(
            "%s must pass metadata and the CRD's OpenAPI schema, so that only CEL rules decide",
            what)
        .isEmpty();
    return review;
  }

  private static List<Case> casesOf(CelRule rule) {
    RuleCases entry = CASES.get(key(rule));
    return entry == null ? List.of() : entry.cases();
  }

  private static String key(CelRule rule) {
    return ruleKey(rule.crd(), rule.location(), rule.rule());
  }

  /** The CRDs of crds/, as they are committed. */
  private static List<CustomResourceDefinition> loadCrds() {
    KubernetesSerialization serialization = new KubernetesSerialization();
    List<CustomResourceDefinition> crds = new ArrayList<>();
    try (Stream<Path> files = Files.list(CRDS)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yml")).sorted().toList()) {
        for (Object doc : readAll(Files.readString(file))) {
          crds.add(serialization.convertValue(doc, CustomResourceDefinition.class));
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + CRDS.toAbsolutePath(), e);
    }
    return crds;
  }

  // ------------------------------------------------------------------------------------------
  // The case table
  // ------------------------------------------------------------------------------------------

  /** An object (YAML), its old version for an update (else null), the verdict and message. */
  private record Case(
      String name, boolean accept, String oldObject, String object, String message) {}

  private record RuleCases(String crd, String location, String rule, List<Case> cases) {}

  private static String ruleKey(String crd, String location, String rule) {
    return crd + " " + location + " " + rule;
  }

  private static Map<String, RuleCases> table(RuleCases... entries) {
    Map<String, RuleCases> table = new LinkedHashMap<>();
    for (RuleCases entry : entries) {
      RuleCases previous = table.put(ruleKey(entry.crd(), entry.location(), entry.rule()), entry);
      if (previous != null) {
        throw new IllegalStateException("two entries for " + entry.rule());
      }
    }
    return table;
  }

  private static RuleCases rule(String crd, String location, String rule, Case... cases) {
    return new RuleCases(crd, location, rule, List.of(cases));
  }

  private static Case accept(String name, String object) {
    return new Case(name, true, null, object, null);
  }

  private static Case acceptUpdate(String name, String oldObject, String object) {
    return new Case(name, true, oldObject, object, null);
  }

  private static Case reject(String name, String object, String message) {
    return new Case(name, false, null, object, message);
  }

  private static Case rejectUpdate(String name, String oldObject, String object, String message) {
    return new Case(name, false, oldObject, object, message);
  }

  /** A HarborRobot in namespace team-a; spec is YAML without indentation, or null for none. */
  private static String connection(String kind, String spec) {
    return """
        apiVersion: harborrobot.io/v1alpha1
        kind: %s
        metadata:
          name: harbor
        %sspec:
        %s"""
        .formatted(
            kind, kind.equals("HarborConnection") ? "  namespace: team-a\n" : "", spec.indent(2));
  }

  private static String robot(String name, String spec) {
    String object =
        """
        apiVersion: harborrobot.io/v1alpha1
        kind: HarborRobot
        metadata:
          name: %s
          namespace: team-a
        """
            .formatted(name);
    return spec == null ? object : object + "spec:\n" + spec.indent(2);
  }

  /** A pull robot whose project and robotName (0: none, metadata.name) have these lengths. */
  private static String longNames(int projectLength, int robotNameLength) {
    String spec = PULL_SPEC.replace("team-a\n", "p".repeat(projectLength) + "\n");
    return robotNameLength == 0 ? spec : spec + "robotName: " + "r".repeat(robotNameLength) + "\n";
  }

  /** Every resource with every action Harbor allows on it for project robots. */
  private static String everyAllowedPair() {
    StringBuilder spec = new StringBuilder(NO_ACCESS_SPEC).append("permissions:\n");
    new TreeMap<>(ProjectPermissions.ALLOWED)
        .forEach(
            (resource, actions) ->
                spec.append("  - resource: ")
                    .append(resource)
                    .append("\n    actions: [")
                    .append(String.join(", ", new TreeSet<>(actions)))
                    .append("]\n"));
    return spec.toString();
  }

  // ------------------------------------------------------------------------------------------
  // Small helpers
  // ------------------------------------------------------------------------------------------

  private static Map<String, Object> parse(String yaml) {
    try {
      return asMap(YAML.readValue(yaml, Object.class));
    } catch (IOException e) {
      throw new AssertionError("not valid YAML:\n" + yaml, e);
    }
  }

  private static List<Object> readAll(String yaml) throws IOException {
    List<Object> docs = new ArrayList<>();
    try (MappingIterator<Object> it = YAML.readerFor(Object.class).readValues(yaml)) {
      while (it.hasNext()) {
        Object doc = it.next();
        if (doc != null) {
          docs.add(doc);
        }
      }
    }
    return docs;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asMap(Object value) {
    return value == null ? Map.of() : (Map<String, Object>) value;
  }
}
