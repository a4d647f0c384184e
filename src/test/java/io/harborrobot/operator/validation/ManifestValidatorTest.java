package io.harborrobot.operator.validation;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The schema side of {@link ManifestValidator} on the packaged CRDs, and the exact text of what it
 * reports: one accepted and one rejected manifest per kind of check, with the API server's field
 * errors and kubectl's message. (CrdCelRulesTest pins every CEL rule.)
 */
class ManifestValidatorTest {

  private static final ManifestValidator VALIDATOR = ManifestValidator.forPackagedCrds();

  private static final YAMLMapper YAML =
      YAMLMapper.builder().enable(DeserializationFeature.USE_LONG_FOR_INTS).build();

  private static final String NOT_CHECKED =
      "<nil>: Invalid value: \"null\": some validation rules were not checked because the object"
          + " was invalid; correct the existing errors to complete validation";

  /** examples/gitlab-ci-robot.yaml, named ci. */
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
      description: GitLab pipeline robot
      durationDays: 90
      rotation:
        renewBeforeDays: 7
      """;

  /** examples/pull-robot.yaml */
  private static final String PULL_SPEC =
      """
      connectionRef:
        name: harbor
      project: team-a
      preset: Pull
      secret:
        name: team-a-pull
      """;

  private static final String CONNECTION_SPEC =
      """
      url: https://harbor.example.com
      credentialsSecretRef:
        name: harbor-admin
      """;

  // ------------------------------------------------------------------------------------------
  // Kinds and what validate does with the object
  // ------------------------------------------------------------------------------------------

  @Test
  void handlesTheThreeKindsOfItsCrds() {
    assertThat(VALIDATOR.handles("harborrobot.io/v1alpha1", "HarborRobot")).isTrue();
    assertThat(VALIDATOR.handles("harborrobot.io/v1alpha1", "HarborConnection")).isTrue();
    assertThat(VALIDATOR.handles("harborrobot.io/v1alpha1", "ClusterHarborConnection")).isTrue();
    assertThat(VALIDATOR.handles("harborrobot.io/v1beta1", "HarborRobot")).isFalse();
    assertThat(VALIDATOR.handles("v1", "Secret")).isFalse();
  }

  @Test
  void kindsItDoesNotHandlePass() {
    Map<String, Object> secret =
        parse(
            """
            apiVersion: v1
            kind: Secret
            metadata:
              name: Not_A_Valid_Name
            type: Opaque
            whatever: [1, 2]
            """);
    assertThat(VALIDATOR.validate(secret, null)).isEmpty();
    assertThat(VALIDATOR.rejection(secret, null)).isNull();
    assertThat(VALIDATOR.review(secret, null).object()).isNull();
  }

  @Test
  void theExampleRobotIsAccepted() {
    assertThat(VALIDATOR.validate(robot("ci", CI_SPEC), null)).isEmpty();
    assertThat(VALIDATOR.rejection(robot("ci", CI_SPEC), null)).isNull();
  }

  @Test
  void doesNotModifyTheObjectAndReturnsItDefaulted() {
    Map<String, Object> object = robot("ci", PULL_SPEC);
    object.put("status", Map.of("robotId", 7L));
    Map<String, Object> before = Values.copyMap(object);
    ManifestValidator.Review review = VALIDATOR.review(object, null);
    assertThat(object).isEqualTo(before);
    assertThat(review.violations()).isEmpty();
    assertThat(review.accepted()).isTrue();
    Map<String, Object> spec = Values.asMap(review.object().get("spec"));
    assertThat(spec)
        .containsEntry("durationDays", -1L)
        .containsEntry("level", "Project")
        .containsEntry("deletionPolicy", "Delete");
    assertThat(Values.asMap(spec.get("secret"))).containsEntry("type", "DockerConfigJson");
    assertThat(Values.asMap(spec.get("connectionRef"))).containsEntry("kind", "HarborConnection");
    assertThat(review.object())
        .as("status is a subresource: dropped on create")
        .doesNotContainKey("status");
  }

  @Test
  void aNullFieldIsRemovedAndGetsItsDefault() {
    ManifestValidator.Review review =
        VALIDATOR.review(robot("ci", PULL_SPEC + "durationDays: null\ndescription: null\n"), null);
    assertThat(review.violations()).isEmpty();
    assertThat(Values.asMap(review.object().get("spec")))
        .containsEntry("durationDays", -1L)
        .doesNotContainKey("description");
  }

  // ------------------------------------------------------------------------------------------
  // The OpenAPI schema, one kind of check at a time
  // ------------------------------------------------------------------------------------------

  @Nested
  class Schema {

    @Test
    void type() {
      assertAccepted(robot("ci", CI_SPEC));
      assertAccepted(robot("ci", CI_SPEC.replace("durationDays: 90", "durationDays: 90.0")));
      assertRejected(
          robot("ci", CI_SPEC.replace("durationDays: 90", "durationDays: \"90\"")),
          "spec.durationDays: Invalid value: \"string\": spec.durationDays in body must be of type"
              + " integer: \"string\"",
          NOT_CHECKED);
      assertRejected(
          robot("ci", CI_SPEC.replace("durationDays: 90", "durationDays: 90.5")),
          "spec.durationDays: Invalid value: \"number\": spec.durationDays in body must be of type"
              + " integer: \"number\"",
          NOT_CHECKED);
      assertRejected(
          robot("ci", CI_SPEC.replace("[list, read]", "read")),
          "spec.permissions[1].actions: Invalid value: \"string\": spec.permissions[1].actions in"
              + " body must be of type array: \"string\"",
          NOT_CHECKED);
    }

    @Test
    void required() {
      assertAccepted(connection(CONNECTION_SPEC));
      assertRejected(
          connection(CONNECTION_SPEC.replace("url: https://harbor.example.com\n", "")),
          "spec.url: Required value",
          NOT_CHECKED);
      assertRejected(
          robot("ci", CI_SPEC.replace("  name: harbor\n", "  kind: HarborConnection\n")),
          "spec.connectionRef.name: Required value",
          NOT_CHECKED);
      assertRejected(robot("ci", null), "spec: Required value", NOT_CHECKED);
    }

    @Test
    void enumeration() {
      assertAccepted(robot("ci", PULL_SPEC.replace("name: team-a-pull", "name: x\n  type: Env")));
      assertRejected(
          robot("ci", PULL_SPEC.replace("name: team-a-pull", "name: x\n  type: Opaque")),
          "spec.secret.type: Unsupported value: \"Opaque\": supported values: \"BasicAuth\","
              + " \"DockerConfigJson\", \"Env\"",
          NOT_CHECKED);
    }

    @Test
    void pattern() {
      assertAccepted(robot("ci", CI_SPEC + "robotName: gitlab.ci_1\n"));
      assertRejected(
          robot("ci", CI_SPEC + "robotName: Bad_Name\n"),
          "spec.robotName: Invalid value: \"Bad_Name\": spec.robotName in body should match"
              + " '^[a-z0-9]+(?:[._-][a-z0-9]+)*$'");
      // The item rule runs too: the value is not blocking.
      assertRejected(
          robot("ci", CI_SPEC.replace("[list, read]", "[list, Read]")),
          "spec.permissions[1].actions[1]: Invalid value: \"Read\":"
              + " spec.permissions[1].actions[1] in body should match '^[a-z]+$'",
          "spec.permissions[1]: Invalid value: \"object\": actions allowed for artifact are:"
              + " read, create, list, delete");
    }

    @Test
    void minimumAndMaximum() {
      assertAccepted(robot("ci", CI_SPEC.replace("durationDays: 90", "durationDays: 3650")));
      assertAccepted(robot("ci", PULL_SPEC + "durationDays: -1\n"));
      assertRejected(
          robot("ci", CI_SPEC.replace("durationDays: 90", "durationDays: 5000")),
          "spec.durationDays: Invalid value: 5000: spec.durationDays in body should be less than"
              + " or equal to 3650");
      // Not a blocking error: the CEL rules run too, and show the schema type as the value.
      assertRejected(
          robot("ci", PULL_SPEC + "durationDays: -2\n"),
          "spec.durationDays: Invalid value: -2: spec.durationDays in body should be greater than"
              + " or equal to -1",
          "spec.durationDays: Invalid value: \"integer\": durationDays must be -1 (never expires)"
              + " or between 1 and 3650");
    }

    @Test
    void minLengthAndMaxLength() {
      assertAccepted(robot("ci", CI_SPEC + "robotName: " + "r".repeat(200) + "\n"));
      assertAccepted(robot("ci", PULL_SPEC + "description: " + "d".repeat(947) + "\n"));
      assertRejected(
          robot("ci", PULL_SPEC + "description: " + "d".repeat(948) + "\n"),
          "spec.description: Too long: may not be longer than 947",
          NOT_CHECKED);
      assertRejected(
          robot("ci", PULL_SPEC.replace("  name: team-a-pull", "  name: \"\"")),
          "spec.secret.name: Invalid value: \"\": spec.secret.name in body should be at least 1"
              + " chars long");
    }

    @Test
    void minItemsAndMaxItems() {
      assertAccepted(robot("ci", PULL_SPEC + "imagePullServiceAccounts: " + accounts(64) + "\n"));
      assertRejected(
          robot("ci", PULL_SPEC + "imagePullServiceAccounts: " + accounts(65) + "\n"),
          "spec.imagePullServiceAccounts: Too many: 65: must have at most 64 items",
          NOT_CHECKED);
      assertRejected(
          robot("ci", CI_SPEC.replace("[list, read]", "[]")),
          "spec.permissions[1].actions: Invalid value: 0: spec.permissions[1].actions in body"
              + " should have at least 1 items");
    }

    @Test
    void unknownFieldsAreRefusedWhileDecoding() {
      Map<String, Object> topLevel = robot("ci", CI_SPEC);
      topLevel.put("specs", Map.of());
      assertThat(strings(VALIDATOR.validate(topLevel, null)))
          .containsExactly("specs: field not declared in schema");
      assertThat(VALIDATOR.rejection(topLevel, null))
          .isEqualTo(
              "Error from server (BadRequest): HarborRobot in version \"v1alpha1\" cannot be"
                  + " handled as a HarborRobot: strict decoding error: unknown field \"specs\"");

      // Nested, in a list item and in metadata; reported alone, before any other check.
      Map<String, Object> nested =
          robot(
              "ci",
              CI_SPEC
                  .replace("durationDays: 90", "durationDays: 5000\nfoo: bar")
                  .replace("actions: [list, read]", "actions: [list, read]\n    verbs: [get]"));
      Values.asMap(nested.get("metadata")).put("lables", Map.of("a", "b"));
      assertThat(strings(VALIDATOR.validate(nested, null)))
          .containsExactly(
              "metadata.lables: field not declared in schema",
              "spec.foo: field not declared in schema",
              "spec.permissions[1].verbs: field not declared in schema");
      assertThat(VALIDATOR.rejection(nested, null))
          .isEqualTo(
              "Error from server (BadRequest): HarborRobot in version \"v1alpha1\" cannot be"
                  + " handled as a HarborRobot: strict decoding error: unknown field"
                  + " \"metadata.lables\", unknown field \"spec.foo\", unknown field"
                  + " \"spec.permissions[1].verbs\"");

      // Maps (additionalProperties) take any key.
      assertAccepted(
          robot("ci", PULL_SPEC.replace("name: team-a-pull", "name: x\n  labels: {any: one}")));
    }
  }

  // ------------------------------------------------------------------------------------------
  // metadata
  // ------------------------------------------------------------------------------------------

  @Nested
  class Metadata {

    @Test
    void nameIsRequired() {
      Map<String, Object> noName = robot("ci", CI_SPEC);
      Values.asMap(noName.get("metadata")).remove("name");
      assertThat(strings(VALIDATOR.validate(noName, null)))
          .containsExactly(
              "metadata.name: Required value: name or generateName is required", NOT_CHECKED);
      assertThat(VALIDATOR.rejection(noName, null))
          .startsWith("The HarborRobot \"\" is invalid: \n* metadata.name: Required value");
    }

    @Test
    void nameMustBeADnsSubdomain() {
      assertAccepted(robot("team-a.ci", CI_SPEC));
      assertRejected(
          robot("Bad_Name", CI_SPEC + "robotName: ci\n"),
          "metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist"
              + " of lower case alphanumeric characters, '-' or '.', and must start and end with an"
              + " alphanumeric character (e.g. 'example.com', regex used for validation is"
              + " '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
    }

    @Test
    void namespaceIsOptionalButMustBeADnsLabel() {
      Map<String, Object> noNamespace = robot("ci", CI_SPEC);
      Values.asMap(noNamespace.get("metadata")).remove("namespace");
      assertAccepted(noNamespace);
      Map<String, Object> badNamespace = robot("ci", CI_SPEC);
      Values.asMap(badNamespace.get("metadata")).put("namespace", "team.a");
      assertRejected(
          badNamespace,
          "metadata.namespace: Invalid value: \"team.a\": a lowercase RFC 1123 label must consist"
              + " of lower case alphanumeric characters or '-', and must start and end with an"
              + " alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for"
              + " validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
    }

    @Test
    void aClusterScopedKindIgnoresANamespace() {
      Map<String, Object> cluster =
          parse(
              """
              apiVersion: harborrobot.io/v1alpha1
              kind: ClusterHarborConnection
              metadata:
                name: harbor
                namespace: whatever
              spec:
                url: https://harbor.example.com
                credentialsSecretRef:
                  name: harbor-admin
                  namespace: harbor-robot-operator
              """);
      assertAccepted(cluster);
    }
  }

  // ------------------------------------------------------------------------------------------
  // CEL rules and kubectl's message
  // ------------------------------------------------------------------------------------------

  @Nested
  class CelRulesAndMessages {

    private static final String PUSH_WITHOUT_PULL = CI_SPEC.replace("[pull, push, list]", "[push]");

    @Test
    void aCelFailureAsKubectlShowsIt() {
      assertThat(VALIDATOR.rejection(robot("ci", PUSH_WITHOUT_PULL), null))
          .isEqualTo(
              "The HarborRobot \"ci\" is invalid: spec: Invalid value: \"object\": repository push"
                  + " requires repository pull: add pull to the repository actions");
      ManifestValidator.Review review = VALIDATOR.review(robot("ci", PUSH_WITHOUT_PULL), null);
      assertThat(review.schemaViolations()).isEmpty();
      assertThat(review.ruleFailures()).hasSize(1);
      CelRule.Failure failure = review.ruleFailures().get(0);
      assertThat(failure.rule().location()).isEqualTo(".spec");
      assertThat(failure.violation())
          .isEqualTo(
              new Violation(
                  "spec",
                  Violation.INVALID,
                  "\"object\": repository push requires repository pull: add pull to the"
                      + " repository actions"));
      assertThat(failure.problem()).isNull();
    }

    @Test
    void aMessageExpressionAndAListItem() {
      assertRejected(
          robot("ci", CI_SPEC.replace("[list, read]", "[list, fly]")),
          "spec.permissions[1]: Invalid value: \"object\": actions allowed for artifact are: read,"
              + " create, list, delete");
    }

    @Test
    void aRuleAtTheRootHasNoFieldPath() {
      assertRejected(
          robot("ci--pull", PULL_SPEC),
          "<nil>: Invalid value: \"object\": metadata.name is not a valid Harbor robot name"
              + " (lower-case letters and digits separated by single '.', '_' or '-'): set"
              + " spec.robotName");
    }

    @Test
    void severalViolationsAsKubectlListsThem() {
      String spec =
          PUSH_WITHOUT_PULL.replace("durationDays: 90", "durationDays: 5000")
              + "robotName: Bad_Name\n";
      assertThat(VALIDATOR.rejection(robot("ci", spec), null))
          .isEqualTo(
              """
              The HarborRobot "ci" is invalid:\s
              * spec.durationDays: Invalid value: 5000: spec.durationDays in body should be less \
              than or equal to 3650
              * spec.robotName: Invalid value: "Bad_Name": spec.robotName in body should match \
              '^[a-z0-9]+(?:[._-][a-z0-9]+)*$'
              * spec: Invalid value: "object": repository push requires repository pull: add pull \
              to the repository actions""");
    }

    @Test
    void aBlockingSchemaErrorSkipsTheCelRules() {
      String spec = PUSH_WITHOUT_PULL + "description: " + "d".repeat(948) + "\n";
      assertThat(VALIDATOR.rejection(robot("ci", spec), null))
          .isEqualTo(
              "The HarborRobot \"ci\" is invalid: \n"
                  + "* spec.description: Too long: may not be longer than 947\n"
                  + "* "
                  + NOT_CHECKED);
      assertThat(VALIDATOR.review(robot("ci", spec), null).ruleFailures()).isEmpty();
    }
  }

  // ------------------------------------------------------------------------------------------
  // Updates: transition rules with oldSelf
  // ------------------------------------------------------------------------------------------

  @Nested
  class Updates {

    private final Map<String, Object> stored =
        VALIDATOR.review(robot("app-pull", PULL_SPEC + "robotName: puller\n"), null).object();

    @Test
    void transitionRulesDoNotRunOnCreate() {
      assertAccepted(robot("app-pull", PULL_SPEC.replace("team-a\n", "team-b\n")));
    }

    @Test
    void anUpdateThatKeepsNameAndProjectIsAccepted() {
      Map<String, Object> update =
          robot("app-pull", PULL_SPEC.replace("Pull\n", "Push\n") + "robotName: puller\n");
      assertThat(VALIDATOR.validate(update, stored)).isEmpty();
      assertThat(VALIDATOR.rejection(update, stored)).isNull();
    }

    @Test
    void robotNameIsImmutable() {
      Map<String, Object> update = robot("app-pull", PULL_SPEC + "robotName: puller2\n");
      assertThat(VALIDATOR.rejection(update, stored))
          .isEqualTo(
              "The HarborRobot \"app-pull\" is invalid: <nil>: Invalid value: \"object\":"
                  + " spec.robotName is immutable");
      assertThat(VALIDATOR.validate(update, null)).as("on create").isEmpty();
    }

    @Test
    void projectIsImmutable() {
      Map<String, Object> update =
          robot("app-pull", PULL_SPEC.replace("team-a\n", "team-b\n") + "robotName: puller\n");
      assertThat(VALIDATOR.rejection(update, stored))
          .isEqualTo(
              "The HarborRobot \"app-pull\" is invalid: spec.project: Invalid value: \"string\":"
                  + " project is immutable");
    }

    @Test
    void statusIsKeptFromTheStoredObject() {
      Map<String, Object> withStatus = Values.copyMap(stored);
      withStatus.put("status", Map.of("robotId", 7L));
      Map<String, Object> update = robot("app-pull", PULL_SPEC + "robotName: puller\n");
      update.put("status", Map.of("robotId", 8L));
      assertThat(VALIDATOR.review(update, withStatus).object())
          .containsEntry("status", Map.of("robotId", 7L));
    }
  }

  // ------------------------------------------------------------------------------------------
  // Go formatting
  // ------------------------------------------------------------------------------------------

  @Test
  void valuesArePrintedAsGoPrintsThem() {
    assertThat(GoText.badValue("a \"b\"\n")).isEqualTo("\"a \\\"b\\\"\\n\"");
    assertThat(GoText.badValue(null)).isEqualTo("\"null\"");
    assertThat(GoText.badValue(5000L)).isEqualTo("5000");
    assertThat(GoText.badValue(3650.0)).isEqualTo("3650");
    assertThat(GoText.badValue(0.5)).isEqualTo("0.5");
    assertThat(GoText.badValue(1e21)).isEqualTo("1e+21");
    assertThat(GoText.badValue(0.00001)).isEqualTo("1e-05");
    assertThat(GoText.badValue(true)).isEqualTo("true");
    assertThat(GoText.badValue(Map.of("b", 1L, "a", List.of("x"))))
        .isEqualTo("map[string]interface {}{\"a\":[]interface {}{\"x\"}, \"b\":1}");
    assertThat(new Violation("spec.project", Violation.REQUIRED, ""))
        .hasToString("spec.project: Required value");
    assertThat(new Violation("spec", Violation.FORBIDDEN, null)).hasToString("spec: Forbidden");
  }

  @Test
  void propertyNamesAreEscapedAsTheApiServerDoes() {
    assertThat(CelRules.celName("namespace")).contains("__namespace__");
    assertThat(CelRules.celName("foo-bar.baz/x")).contains("foo__dash__bar__dot__baz__slash__x");
    assertThat(CelRules.celName("a__b")).contains("a__underscores__b");
    assertThat(CelRules.celName("robotName")).contains("robotName");
    assertThat(CelRules.celName("1st")).isEmpty();
    assertThat(CelRules.celName("a b")).isEmpty();
  }

  // ------------------------------------------------------------------------------------------
  // Helpers
  // ------------------------------------------------------------------------------------------

  private static void assertAccepted(Map<String, Object> object) {
    assertThat(strings(VALIDATOR.validate(object, null))).as("violations").isEmpty();
    assertThat(VALIDATOR.rejection(object, null)).isNull();
  }

  private static void assertRejected(Map<String, Object> object, String... expected) {
    List<Violation> violations = VALIDATOR.validate(object, null);
    assertThat(strings(violations)).containsExactly(expected);
    String name = (String) Values.asMap(object.get("metadata")).get("name");
    String prefix = "The " + object.get("kind") + " \"" + name + "\" is invalid: ";
    assertThat(VALIDATOR.rejection(object, null))
        .isEqualTo(
            expected.length == 1
                ? prefix + expected[0]
                : prefix
                    + "\n"
                    + List.of(expected).stream()
                        .map(e -> "* " + e)
                        .collect(Collectors.joining("\n")));
  }

  private static List<String> strings(List<Violation> violations) {
    return violations.stream().map(Violation::toString).toList();
  }

  private static String accounts(int n) {
    return IntStream.range(0, n)
        .mapToObj(i -> "sa-" + i)
        .collect(Collectors.joining(", ", "[", "]"));
  }

  /** A HarborRobot in namespace team-a; spec is YAML without indentation, or null for none. */
  private static Map<String, Object> robot(String name, String spec) {
    String object =
        """
        apiVersion: harborrobot.io/v1alpha1
        kind: HarborRobot
        metadata:
          name: %s
          namespace: team-a
        """
            .formatted(name);
    return parse(spec == null ? object : object + "spec:\n" + spec.indent(2));
  }

  private static Map<String, Object> connection(String spec) {
    return parse(
        """
        apiVersion: harborrobot.io/v1alpha1
        kind: HarborConnection
        metadata:
          name: harbor
          namespace: team-a
        spec:
        """
            + spec.indent(2));
  }

  private static Map<String, Object> parse(String yaml) {
    try {
      return Values.asMap(YAML.readValue(yaml, Object.class));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
