package io.harborrobot.operator.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.google.common.collect.ImmutableCollection;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSet;
import dev.cel.bundle.Cel;
import dev.cel.bundle.CelBuilder;
import dev.cel.bundle.CelFactory;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelOptions;
import dev.cel.common.CelValidationResult;
import dev.cel.common.types.CelType;
import dev.cel.common.types.CelTypeProvider;
import dev.cel.common.types.ListType;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import dev.cel.common.types.StructType;
import dev.cel.extensions.CelExtensions;
import dev.cel.extensions.CelStringExtensions;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.validator.CelValidatorFactory;
import dev.cel.validator.validators.DurationLiteralValidator;
import dev.cel.validator.validators.HomogeneousLiteralValidator;
import dev.cel.validator.validators.RegexLiteralValidator;
import dev.cel.validator.validators.TimestampLiteralValidator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Compiles and evaluates every CEL validation rule ({@code x-kubernetes-validations}) of the CRDs
 * committed under {@code crds/}, the way a Kubernetes 1.29+ API server does, since no real API
 * server is available to the tests.
 *
 * <p>What is reproduced from the API server:
 *
 * <ul>
 *   <li>{@code self} (and {@code oldSelf} for transition rules) is typed from the OpenAPI schema at
 *       the rule's location, as {@code SchemaDeclType} does: objects become struct types with their
 *       declared fields only, arrays lists, additionalProperties maps; the resource root gets
 *       {@code apiVersion}, {@code kind} and a {@code metadata} with only {@code name} and {@code
 *       generateName}. A rule reading an undeclared field, or comparing an int to a string, fails
 *       to compile here as it would there. A rule must be a {@code bool}, a {@code
 *       messageExpression} a {@code string}.
 *   <li>The language of the 1.29 base environment that CEL-Java has: the standard macros (has, all,
 *       exists, exists_one, map, filter; not the newer {@code existsOne}), the strings extension at
 *       the functions of version 2 ({@code join}, {@code split}, ...; not {@code reverse}),
 *       homogeneous aggregate literals, cross-type numeric comparisons, and the literal checks of
 *       1.29 (regex, duration, timestamp, homogeneous literals). Kubernetes' own libraries ({@code
 *       isSorted}, {@code url}, {@code quantity}, {@code ip}, {@code format}, ...) are missing: a
 *       rule that uses one fails to compile here and the function has to be declared and bound.
 *   <li>Transition rules (rules that mention {@code oldSelf}) are refused below a list that is not
 *       {@code x-kubernetes-list-type: map}, and are only evaluated when an old value exists.
 *   <li>Objects are defaulted from the schema before the rules run, and rules below a field that is
 *       absent are not evaluated. A failing rule reports its {@code messageExpression} result (if
 *       it is a non-blank single line), else its {@code message}.
 * </ul>
 *
 * <p>Not reproduced: the cost estimate and runtime cost budget (see shared/LIBRARIES.md for what a
 * real 1.32 API server said about these rules), ratcheting, and escaping of property names that are
 * not CEL identifiers (such properties are left out of the declared types). Reserved words are
 * escaped as the API server does ({@code namespace} is {@code __namespace__}).
 *
 * <p>The table {@link #CASES} maps every rule, by CRD, location and exact rule text, to objects the
 * API server must accept and objects it must reject. A rule found in the CRDs without an entry, or
 * whose text changed, fails {@link #everyRuleInTheCrdsHasAcceptAndRejectCases()}. Every case object
 * must pass the OpenAPI schema (so that the CEL rule, not the schema, is what decides), an accepted
 * object must pass every rule of its CRD, and a rejected object must be rejected by the rule under
 * test only.
 */
class CrdCelRulesTest {

  private static final Path CRDS = Path.of("crds");
  private static final Path EXAMPLES = Path.of("examples");

  private static final YAMLMapper YAML =
      YAMLMapper.builder()
          .enable(DeserializationFeature.USE_LONG_FOR_INTS)
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .build();

  private static final Pattern OLD_SELF = Pattern.compile("\\boldSelf\\b");

  /** CEL keywords that Kubernetes escapes as __keyword__ when they name a property. */
  private static final Set<String> CEL_RESERVED =
      Set.of(
          "true",
          "false",
          "null",
          "in",
          "as",
          "break",
          "const",
          "continue",
          "else",
          "for",
          "function",
          "if",
          "import",
          "let",
          "loop",
          "package",
          "namespace",
          "return",
          "var",
          "void",
          "while");

  private static final Pattern CEL_IDENTIFIER = Pattern.compile("[_a-zA-Z][_a-zA-Z0-9]*");
  private static final Pattern DNS_SUBDOMAIN =
      Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");

  /** Kubernetes 1.29+ base environment options that CEL-Java has. */
  private static final CelOptions OPTIONS =
      CelOptions.current()
          .enableHomogeneousLiterals(true)
          .enableHeterogeneousNumericComparisons(true)
          .enableQuotedIdentifierSyntax(false)
          .build();

  /** ext.Strings(ext.StringsVersion(2)): everything CEL-Java has except reverse (version 3). */
  private static final CelStringExtensions STRINGS =
      CelExtensions.strings(EnumSet.complementOf(EnumSet.of(CelStringExtensions.Function.REVERSE)));

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
  // The CRDs and their rules, compiled once.
  // ------------------------------------------------------------------------------------------

  private static final List<Crd> CRD_VERSIONS = loadCrds();
  private static final List<Rule> RULES =
      CRD_VERSIONS.stream().flatMap(c -> c.rules().stream()).toList();
  private static final Map<Rule, Compiled> COMPILED =
      RULES.stream()
          .collect(
              Collectors.toMap(
                  Function.identity(), CrdCelRulesTest::compile, (a, b) -> a, LinkedHashMap::new));

  // ------------------------------------------------------------------------------------------
  // Tests
  // ------------------------------------------------------------------------------------------

  @Test
  void theCrdsHaveRules() {
    assertThat(CRD_VERSIONS).extracting(Crd::key).contains(ROBOTS);
    assertThat(RULES).as("x-kubernetes-validations found in crds/*.yml").isNotEmpty();
  }

  @Test
  void everyRuleInTheCrdsHasAcceptAndRejectCases() {
    List<String> missing = new ArrayList<>();
    for (Rule rule : RULES) {
      RuleCases entry = CASES.get(rule.key());
      if (entry == null) {
        missing.add(
            "no cases for the rule at "
                + rule.crd().key()
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
    Set<String> found = RULES.stream().map(Rule::key).collect(Collectors.toSet());
    assertThat(CASES.keySet())
        .as("cases for rules that are not in crds/*.yml (rule removed or its text changed)")
        .allSatisfy(key -> assertThat(found).contains(key));
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
    Crd robots = crd(ROBOTS);
    Map<String, Object> noSpec;
    try {
      noSpec = asMap(YAML.readValue(robot("app-pull", null), Object.class));
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    List<String> errors = new ArrayList<>();
    conform(noSpec, robots.schema(), "", true, errors);
    assertThat(errors).anyMatch(e -> e.contains("spec"));
  }

  @Test
  void theExamplesPassEveryRule() throws IOException {
    List<String> checked = new ArrayList<>();
    try (Stream<Path> files = Files.list(EXAMPLES)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
        for (Object doc : readAll(Files.readString(file))) {
          Map<String, Object> object = asMap(doc);
          for (Crd crd : CRD_VERSIONS) {
            if (crd.apiVersion().equals(object.get("apiVersion"))
                && crd.kind().equals(object.get("kind"))) {
              String what =
                  file + " " + crd.kind() + " " + asMap(object.get("metadata")).get("name");
              Map<String, Object> admitted = admit(crd, YAML.writeValueAsString(object), what);
              assertThat(evaluate(crd, admitted, null)).as(what).isEmpty();
              checked.add(what);
            }
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

  private static void assertCompiles(Rule rule) {
    assertThat(COMPILED.get(rule).errors())
        .as("rule at %s %s must compile: %s", rule.crd().key(), rule.location(), rule.rule())
        .isEmpty();
  }

  private static DynamicTest caseTest(Rule rule, Case c) {
    String name =
        (c.accept() ? "accepts " : "rejects ")
            + (c.oldObject() == null ? "" : "update: ")
            + c.name();
    return dynamicTest(
        name,
        () -> {
          assertCompiles(rule);
          Crd crd = rule.crd();
          Map<String, Object> old = null;
          if (c.oldObject() != null) {
            old = admit(crd, c.oldObject(), "old object of '" + c.name() + "'");
            assertThat(evaluate(crd, old, null))
                .as("the old object of '%s' must have been accepted when created", c.name())
                .isEmpty();
          }
          Map<String, Object> object = admit(crd, c.object(), "'" + c.name() + "'");
          List<Failure> failures = evaluate(crd, object, old);
          if (c.accept()) {
            assertThat(failures).as("every rule must accept '%s'", c.name()).isEmpty();
            return;
          }
          assertThat(failures).as("'%s' must be rejected", c.name()).isNotEmpty();
          assertThat(failures)
              .as("'%s' must be rejected by the rule under test only", c.name())
              .allSatisfy(f -> assertThat(f.rule()).isEqualTo(rule));
          for (Failure f : failures) {
            assertThat(f.problem()).as("%s", f).isNull();
            assertThat(f.message()).as("%s", f).isNotBlank().doesNotContain("\n", "\r");
            assertThat(f.message()).as("%s", f).contains(c.message());
          }
        });
  }

  private static List<Case> casesOf(Rule rule) {
    RuleCases entry = CASES.get(rule.key());
    return entry == null ? List.of() : entry.cases();
  }

  // ------------------------------------------------------------------------------------------
  // Compiling
  // ------------------------------------------------------------------------------------------

  private record Compiled(
      List<String> errors, CelRuntime.Program program, CelRuntime.Program messageProgram) {}

  private static Compiled compile(Rule rule) {
    List<String> errors = new ArrayList<>();
    if (rule.transition() && !rule.correlatable()) {
      errors.add(
          "oldSelf cannot be used below a list that is not x-kubernetes-list-type: map"
              + " (the API server refuses the CRD)");
    }
    if (rule.message() != null && (rule.message().isBlank() || rule.message().contains("\n"))) {
      errors.add("message must be a non-blank single line: '" + rule.message() + "'");
    }
    CelBuilder builder =
        CelFactory.standardCelBuilder()
            .setOptions(OPTIONS)
            .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
            .addCompilerLibraries(STRINGS)
            .addRuntimeLibraries(STRINGS)
            .setTypeProvider(rule.crd().typeProvider())
            .addVar("self", rule.selfType());
    if (rule.transition()) {
      builder.addVar("oldSelf", rule.selfType());
    }
    Cel cel = builder.build();
    CelRuntime.Program program = program(cel, rule.rule(), SimpleType.BOOL, "rule", errors);
    CelRuntime.Program messageProgram =
        rule.messageExpression() == null
            ? null
            : program(
                cel, rule.messageExpression(), SimpleType.STRING, "messageExpression", errors);
    return new Compiled(List.copyOf(errors), program, messageProgram);
  }

  private static CelRuntime.Program program(
      Cel cel, String expression, CelType resultType, String what, List<String> errors) {
    try {
      CelValidationResult compiled = cel.compile(expression);
      if (compiled.hasError()) {
        errors.add(what + " does not compile:\n" + compiled.getErrorString());
        return null;
      }
      CelAbstractSyntaxTree ast = compiled.getAst();
      CelValidationResult checked =
          CelValidatorFactory.standardCelValidatorBuilder(cel)
              .addAstValidators(
                  RegexLiteralValidator.INSTANCE,
                  DurationLiteralValidator.INSTANCE,
                  TimestampLiteralValidator.INSTANCE,
                  HomogeneousLiteralValidator.newInstance())
              .build()
              .validate(ast);
      if (checked.hasError()) {
        errors.add(what + " fails the API server's literal checks:\n" + checked.getErrorString());
        return null;
      }
      if (!ast.getResultType().equals(resultType)) {
        errors.add(
            what
                + " must evaluate to "
                + resultType.name()
                + ", not "
                + ast.getResultType().name());
        return null;
      }
      return cel.createProgram(ast);
    } catch (Exception e) {
      errors.add(what + " does not compile: " + e);
      return null;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Evaluating
  // ------------------------------------------------------------------------------------------

  /** A rule that did not pass: where, the message the API server would report, any problem. */
  private record Failure(Rule rule, String at, String message, String problem) {
    @Override
    public String toString() {
      return (at.isEmpty() ? "<root>" : at.substring(1))
          + ": "
          + message
          + (problem == null ? "" : " [" + problem + "]")
          + " (rule at "
          + rule.location()
          + ")";
    }
  }

  /** Runs every compiled rule of the CRD over the object, as on create (old null) or update. */
  private static List<Failure> evaluate(
      Crd crd, Map<String, Object> object, Map<String, Object> old) {
    List<Failure> failures = new ArrayList<>();
    for (Rule rule : crd.rules()) {
      Compiled compiled = COMPILED.get(rule);
      if (compiled.program() == null) {
        continue; // reported by the rule's "compiles" test
      }
      visit(
          rule.steps(),
          0,
          object,
          old,
          "",
          (self, oldSelf, at) -> {
            if (rule.transition() && oldSelf == null) {
              return;
            }
            Map<String, Object> vars = new HashMap<>();
            Map<String, Object> selfSchema = schemaAt(crd.schema(), rule.steps());
            vars.put("self", escaped(self, selfSchema));
            if (rule.transition()) {
              vars.put("oldSelf", escaped(oldSelf, selfSchema));
            }
            Object result;
            try {
              result = compiled.program().eval(vars);
            } catch (CelEvaluationException e) {
              failures.add(new Failure(rule, at, fallbackMessage(rule), "evaluation error: " + e));
              return;
            }
            if (!Boolean.TRUE.equals(result)) {
              failures.add(failure(rule, compiled, vars, at, result));
            }
          });
    }
    return failures;
  }

  private static Failure failure(
      Rule rule, Compiled compiled, Map<String, Object> vars, String at, Object result) {
    if (!Boolean.FALSE.equals(result)) {
      return new Failure(rule, at, fallbackMessage(rule), "rule gave " + result);
    }
    if (compiled.messageProgram() == null) {
      return new Failure(rule, at, fallbackMessage(rule), null);
    }
    Object message;
    try {
      message = compiled.messageProgram().eval(vars);
    } catch (CelEvaluationException e) {
      return new Failure(rule, at, fallbackMessage(rule), "messageExpression failed: " + e);
    }
    if (message instanceof String s && !s.isBlank() && !s.contains("\n") && !s.contains("\r")) {
      return new Failure(rule, at, s, null);
    }
    // The API server then reports the message (or the rule) instead.
    return new Failure(rule, at, fallbackMessage(rule), "messageExpression gave '" + message + "'");
  }

  private static String fallbackMessage(Rule rule) {
    return rule.message() != null ? rule.message() : "failed rule: " + rule.rule();
  }

  private interface Visitor {
    void visit(Object self, Object oldSelf, String at);
  }

  /** Calls the visitor for every value at the rule's location, with its old value if correlated. */
  /** A property's name as rules spell it: a reserved word becomes __word__. */
  private static String celName(String property) {
    return CEL_RESERVED.contains(property) ? "__" + property + "__" : property;
  }

  /** The schema at a rule's location. */
  private static Map<String, Object> schemaAt(Map<String, Object> schema, List<Step> steps) {
    Map<String, Object> at = schema;
    for (Step step : steps) {
      if (step.token().equals(Step.ITEMS)) {
        at = asMap(at.get("items"));
      } else if (step.token().equals(Step.VALUES)) {
        at = asMap(at.get("additionalProperties"));
      } else {
        at = asMap(asMap(at.get("properties")).get(step.token()));
      }
    }
    return at;
  }

  /** A value with its object properties renamed as {@link #celName} does; map keys stay. */
  private static Object escaped(Object value, Map<String, Object> schema) {
    if (value instanceof Map<?, ?> map && schema.get("properties") instanceof Map<?, ?> props) {
      Map<String, Object> out = new LinkedHashMap<>();
      map.forEach(
          (k, v) ->
              out.put(
                  celName((String) k), props.containsKey(k) ? escaped(v, asMap(props.get(k))) : v));
      return out;
    }
    if (value instanceof Map<?, ?> map && schema.get("additionalProperties") instanceof Map<?, ?>) {
      Map<String, Object> out = new LinkedHashMap<>();
      map.forEach(
          (k, v) -> out.put((String) k, escaped(v, asMap(schema.get("additionalProperties")))));
      return out;
    }
    if (value instanceof List<?> list && schema.get("items") instanceof Map<?, ?> items) {
      return list.stream().map(v -> escaped(v, asMap(items))).toList();
    }
    return value;
  }

  private static void visit(
      List<Step> steps, int i, Object node, Object old, String at, Visitor visitor) {
    if (i == steps.size()) {
      visitor.visit(node, old, at);
      return;
    }
    Step step = steps.get(i);
    if (step.token().equals(Step.ITEMS)) {
      if (node instanceof List<?> list) {
        for (int j = 0; j < list.size(); j++) {
          Object item = list.get(j);
          visit(steps, i + 1, item, correlate(step, item, old), at + "[" + j + "]", visitor);
        }
      }
    } else if (step.token().equals(Step.VALUES)) {
      if (node instanceof Map<?, ?> map) {
        Map<?, ?> oldMap = old instanceof Map<?, ?> m ? m : Map.of();
        map.forEach((k, v) -> visit(steps, i + 1, v, oldMap.get(k), at + "[" + k + "]", visitor));
      }
    } else if (node instanceof Map<?, ?> map && map.get(step.token()) != null) {
      Object oldValue = old instanceof Map<?, ?> m ? m.get(step.token()) : null;
      visit(steps, i + 1, map.get(step.token()), oldValue, at + "." + step.token(), visitor);
    }
  }

  /** The old item of a list-type map with the same keys; items of other lists do not correlate. */
  private static Object correlate(Step step, Object item, Object old) {
    if (step.mapKeys().isEmpty() || !(old instanceof List<?> oldList)) {
      return null;
    }
    return oldList.stream()
        .filter(
            o ->
                step.mapKeys().stream()
                    .allMatch(k -> Objects.equals(asMap(o).get(k), asMap(item).get(k))))
        .findFirst()
        .orElse(null);
  }

  // ------------------------------------------------------------------------------------------
  // Admission of a case object: parse, default, check against the OpenAPI schema
  // ------------------------------------------------------------------------------------------

  private static Map<String, Object> admit(Crd crd, String yaml, String what) {
    Map<String, Object> object;
    try {
      object = asMap(YAML.readValue(yaml, Object.class));
    } catch (IOException e) {
      throw new AssertionError(what + " is not valid YAML", e);
    }
    assertThat(object.get("apiVersion")).as("%s apiVersion", what).isEqualTo(crd.apiVersion());
    assertThat(object.get("kind")).as("%s kind", what).isEqualTo(crd.kind());
    Object name = asMap(object.get("metadata")).get("name");
    assertThat(name).as("%s metadata.name", what).isInstanceOf(String.class);
    assertThat((String) name)
        .as("%s metadata.name must be a valid Kubernetes name", what)
        .matches(DNS_SUBDOMAIN)
        .hasSizeLessThanOrEqualTo(253);
    applyDefaults(object, crd.schema());
    List<String> errors = new ArrayList<>();
    conform(object, crd.schema(), "", true, errors);
    assertThat(errors)
        .as("%s must pass the CRD's OpenAPI schema, so that only CEL rules decide", what)
        .isEmpty();
    return object;
  }

  /** Structural-schema defaulting: absent properties of present objects get their default. */
  private static void applyDefaults(Object value, Map<String, Object> schema) {
    if (value instanceof Map<?, ?> raw) {
      Map<String, Object> map = asMap(raw);
      Map<String, Object> properties = asMap(schema.get("properties"));
      properties.forEach(
          (name, property) -> {
            Map<String, Object> propertySchema = asMap(property);
            if (!map.containsKey(name) && propertySchema.containsKey("default")) {
              map.put(name, copy(propertySchema.get("default")));
            }
            if (map.containsKey(name)) {
              applyDefaults(map.get(name), propertySchema);
            }
          });
      if (schema.get("additionalProperties") instanceof Map<?, ?> values) {
        map.values().forEach(v -> applyDefaults(v, asMap(values)));
      }
    } else if (value instanceof List<?> list && schema.get("items") instanceof Map<?, ?> items) {
      list.forEach(v -> applyDefaults(v, asMap(items)));
    }
  }

  /** The subset of OpenAPI validation the CRDs use. */
  private static void conform(
      Object value, Map<String, Object> schema, String at, boolean root, List<String> errors) {
    String where = at.isEmpty() ? "<root>" : at.substring(1);
    if (value == null) {
      errors.add(where + ": null");
      return;
    }
    if (Boolean.TRUE.equals(schema.get("x-kubernetes-int-or-string"))) {
      if (!(value instanceof Long || value instanceof String)) {
        errors.add(where + ": must be an integer or a string");
      }
      return;
    }
    switch (String.valueOf(schema.get("type"))) {
      case "object" -> {
        if (!(value instanceof Map<?, ?> raw)) {
          errors.add(where + ": must be an object");
          return;
        }
        Map<String, Object> map = asMap(raw);
        for (Object required : asList(schema.get("required"))) {
          if (!map.containsKey(required)) {
            errors.add(where + "." + required + ": Required value");
          }
        }
        Map<String, Object> properties = asMap(schema.get("properties"));
        map.forEach(
            (name, v) -> {
              if (root && Set.of("apiVersion", "kind", "metadata").contains(name)) {
                return;
              }
              if (properties.containsKey(name)) {
                conform(v, asMap(properties.get(name)), at + "." + name, false, errors);
              } else if (schema.get("additionalProperties") instanceof Map<?, ?> values) {
                conform(v, asMap(values), at + "." + name, false, errors);
              } else if (!Boolean.TRUE.equals(schema.get("x-kubernetes-preserve-unknown-fields"))) {
                errors.add(where + "." + name + ": unknown field (the API server would prune it)");
              }
            });
      }
      case "array" -> {
        if (!(value instanceof List<?> list)) {
          errors.add(where + ": must be an array");
          return;
        }
        if (schema.get("minItems") instanceof Number min && list.size() < min.longValue()) {
          errors.add(where + ": fewer than " + min + " items");
        }
        if (schema.get("maxItems") instanceof Number max && list.size() > max.longValue()) {
          errors.add(where + ": more than " + max + " items");
        }
        for (int i = 0; i < list.size(); i++) {
          conform(list.get(i), asMap(schema.get("items")), at + "[" + i + "]", false, errors);
        }
      }
      case "string" -> {
        if (!(value instanceof String s)) {
          errors.add(where + ": must be a string");
          return;
        }
        long length = s.codePointCount(0, s.length());
        if (schema.get("minLength") instanceof Number min && length < min.longValue()) {
          errors.add(where + ": shorter than " + min);
        }
        if (schema.get("maxLength") instanceof Number max && length > max.longValue()) {
          errors.add(where + ": longer than " + max);
        }
        if (schema.get("pattern") instanceof String pattern
            && !Pattern.compile(pattern).matcher(s).find()) {
          errors.add(where + ": does not match " + pattern);
        }
      }
      case "integer", "number" -> {
        boolean integer = "integer".equals(schema.get("type"));
        if (!(value instanceof Long || (!integer && value instanceof Double))) {
          errors.add(where + ": must be " + (integer ? "an integer" : "a number"));
          return;
        }
        double number = ((Number) value).doubleValue();
        if (schema.get("minimum") instanceof Number min && number < min.doubleValue()) {
          errors.add(where + ": less than " + min);
        }
        if (schema.get("maximum") instanceof Number max && number > max.doubleValue()) {
          errors.add(where + ": greater than " + max);
        }
      }
      case "boolean" -> {
        if (!(value instanceof Boolean)) {
          errors.add(where + ": must be a boolean");
        }
      }
      default -> errors.add(where + ": schema type " + schema.get("type") + " not handled here");
    }
    if (schema.get("enum") instanceof List<?> values && !values.contains(value)) {
      errors.add(where + ": " + value + " is not one of " + values);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Loading the CRDs: rules, their locations and the CEL types of self
  // ------------------------------------------------------------------------------------------

  /** One step of a rule's location: a property name, array items or map values. */
  private record Step(String token, List<String> mapKeys) {
    static final String ITEMS = "[*]";
    static final String VALUES = "{*}";
  }

  /** One served version of a CRD. */
  private record Crd(
      String name,
      String apiVersion,
      String kind,
      Map<String, Object> schema,
      List<StructType> types,
      List<Rule> rules) {

    String key() {
      return name + "/" + apiVersion.substring(apiVersion.indexOf('/') + 1);
    }

    CelTypeProvider typeProvider() {
      return new CelTypeProvider() {
        @Override
        public ImmutableCollection<CelType> types() {
          return ImmutableList.copyOf(types);
        }

        @Override
        public Optional<CelType> findType(String typeName) {
          return types.stream()
              .filter(t -> t.name().equals(typeName))
              .map(CelType.class::cast)
              .findFirst();
        }
      };
    }
  }

  /** One entry of x-kubernetes-validations. Identity, not value, equality: rules may repeat. */
  private static final class Rule {
    private final Crd crd;
    private final String location;
    private final List<Step> steps;
    private final boolean correlatable;
    private final CelType selfType;
    private final String rule;
    private final String message;
    private final String messageExpression;

    Rule(
        Crd crd,
        List<Step> steps,
        boolean correlatable,
        CelType selfType,
        Map<String, Object> validation) {
      this.crd = crd;
      this.steps = List.copyOf(steps);
      this.location =
          steps.isEmpty()
              ? "."
              : steps.stream()
                  .map(
                      s ->
                          s.token().startsWith("[") || s.token().startsWith("{")
                              ? s.token()
                              : "." + s.token())
                  .collect(Collectors.joining());
      this.correlatable = correlatable;
      this.selfType = selfType;
      this.rule = (String) validation.get("rule");
      this.message = (String) validation.get("message");
      this.messageExpression = (String) validation.get("messageExpression");
      assertThat(validation.keySet())
          .as("keys of the validation rule at %s %s handled by this test", crd.key(), location)
          .isSubsetOf("rule", "message", "messageExpression", "reason", "fieldPath");
      assertThat(rule).as("rule at %s %s", crd.key(), location).isNotBlank();
    }

    Crd crd() {
      return crd;
    }

    String location() {
      return location;
    }

    List<Step> steps() {
      return steps;
    }

    boolean correlatable() {
      return correlatable;
    }

    CelType selfType() {
      return selfType;
    }

    String rule() {
      return rule;
    }

    String message() {
      return message;
    }

    String messageExpression() {
      return messageExpression;
    }

    boolean transition() {
      return OLD_SELF.matcher(rule).find();
    }

    String key() {
      return ruleKey(crd.key(), location, rule);
    }

    @Override
    public String toString() {
      String text = rule.length() > 90 ? rule.substring(0, 87) + "..." : rule;
      return crd.key() + " " + location + ": " + text;
    }
  }

  private static List<Crd> loadCrds() {
    List<Crd> crds = new ArrayList<>();
    try (Stream<Path> files = Files.list(CRDS)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yml")).sorted().toList()) {
        for (Object doc : readAll(Files.readString(file))) {
          Map<String, Object> crd = asMap(doc);
          Map<String, Object> spec = asMap(crd.get("spec"));
          String group = (String) spec.get("group");
          String kind = (String) asMap(spec.get("names")).get("kind");
          for (Object v : asList(spec.get("versions"))) {
            Map<String, Object> version = asMap(v);
            Map<String, Object> schema = asMap(asMap(version.get("schema")).get("openAPIV3Schema"));
            Crd model =
                new Crd(
                    (String) asMap(crd.get("metadata")).get("name"),
                    group + "/" + version.get("name"),
                    kind,
                    schema,
                    new ArrayList<>(),
                    new ArrayList<>());
            declare(model, schema, kind, new ArrayList<>(), true, true);
            crds.add(model);
          }
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + CRDS.toAbsolutePath(), e);
    }
    return crds;
  }

  /** The CEL type of a schema node (after SchemaDeclType), collecting the rules at and below it. */
  private static CelType declare(
      Crd crd,
      Map<String, Object> schema,
      String typeName,
      List<Step> steps,
      boolean correlatable,
      boolean resourceRoot) {
    CelType type;
    if (Boolean.TRUE.equals(schema.get("x-kubernetes-int-or-string"))) {
      type = SimpleType.DYN;
    } else {
      type =
          switch (String.valueOf(schema.get("type"))) {
            case "object" ->
                declareObject(crd, schema, typeName, steps, correlatable, resourceRoot);
            case "array" -> {
              Map<String, Object> items = asMap(schema.get("items"));
              boolean mapList = "map".equals(schema.get("x-kubernetes-list-type"));
              List<String> keys =
                  asList(schema.get("x-kubernetes-list-map-keys")).stream()
                      .map(String::valueOf)
                      .toList();
              yield ListType.create(
                  declare(
                      crd,
                      items,
                      typeName + "[]",
                      append(steps, new Step(Step.ITEMS, mapList ? keys : List.of())),
                      correlatable && mapList,
                      Boolean.TRUE.equals(items.get("x-kubernetes-embedded-resource"))));
            }
            case "string" ->
                switch (String.valueOf(schema.get("format"))) {
                  case "byte" -> SimpleType.BYTES;
                  case "duration" -> SimpleType.DURATION;
                  case "date", "date-time" -> SimpleType.TIMESTAMP;
                  default -> SimpleType.STRING;
                };
            case "integer" -> SimpleType.INT;
            case "number" -> SimpleType.DOUBLE;
            case "boolean" -> SimpleType.BOOL;
            default -> SimpleType.DYN;
          };
    }
    for (Object validation : asList(schema.get("x-kubernetes-validations"))) {
      crd.rules().add(new Rule(crd, steps, correlatable, type, asMap(validation)));
    }
    return type;
  }

  private static CelType declareObject(
      Crd crd,
      Map<String, Object> schema,
      String typeName,
      List<Step> steps,
      boolean correlatable,
      boolean resourceRoot) {
    if (schema.get("additionalProperties") instanceof Map<?, ?> values) {
      return MapType.create(
          SimpleType.STRING,
          declare(
              crd,
              asMap(values),
              typeName + "{}",
              append(steps, new Step(Step.VALUES, List.of())),
              correlatable,
              false));
    }
    Map<String, CelType> fields = new LinkedHashMap<>();
    asMap(schema.get("properties"))
        .forEach(
            (name, property) -> {
              // The API server escapes other names (__dash__ etc.); no rule here needs that.
              if (CEL_IDENTIFIER.matcher(name).matches()) {
                Map<String, Object> propertySchema = asMap(property);
                fields.put(
                    celName(name),
                    declare(
                        crd,
                        propertySchema,
                        typeName + "." + name,
                        append(steps, new Step(name, List.of())),
                        correlatable,
                        Boolean.TRUE.equals(propertySchema.get("x-kubernetes-embedded-resource"))));
              }
            });
    if (resourceRoot) {
      // WithTypeAndObjectMeta: only metadata.name and metadata.generateName are visible.
      fields.put("apiVersion", SimpleType.STRING);
      fields.put("kind", SimpleType.STRING);
      fields.put(
          "metadata",
          struct(
              crd,
              typeName + ".metadata",
              Map.of("name", SimpleType.STRING, "generateName", SimpleType.STRING)));
    }
    return struct(crd, typeName, fields);
  }

  private static StructType struct(Crd crd, String name, Map<String, CelType> fields) {
    Map<String, CelType> copy = Map.copyOf(fields);
    StructType type =
        StructType.create(
            name, ImmutableSet.copyOf(fields.keySet()), f -> Optional.ofNullable(copy.get(f)));
    crd.types().add(type);
    return type;
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

  private static Crd crd(String key) {
    return CRD_VERSIONS.stream().filter(c -> c.key().equals(key)).findFirst().orElseThrow();
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

  private static List<?> asList(Object value) {
    return value == null ? List.of() : (List<?>) value;
  }

  private static <T> List<T> append(List<T> list, T element) {
    List<T> result = new ArrayList<>(list);
    result.add(element);
    return result;
  }

  @SuppressWarnings("unchecked")
  private static <T> T copy(T value) {
    if (value instanceof Map<?, ?> map) {
      Map<Object, Object> result = new LinkedHashMap<>();
      map.forEach((k, v) -> result.put(k, copy(v)));
      return (T) result;
    }
    if (value instanceof List<?> list) {
      List<Object> result = new ArrayList<>();
      list.forEach(v -> result.add(copy(v)));
      return (T) result;
    }
    return value;
  }
}
