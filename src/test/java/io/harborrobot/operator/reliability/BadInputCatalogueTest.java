package io.harborrobot.operator.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.harborrobot.operator.api.v1alpha1.ClusterHarborConnection;
import io.harborrobot.operator.api.v1alpha1.HarborConnection;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.ReadProblems;
import io.harborrobot.operator.reconciler.Reasons;
import io.harborrobot.operator.reliability.BadInputCatalogue.Case;
import io.harborrobot.operator.reliability.BadInputCatalogue.Outcome;
import io.harborrobot.operator.validation.ManifestValidator;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The bad-input catalogue ({@link BadInputCatalogue}) against the CRDs as an API server enforces
 * them ({@link ManifestValidator}): every case the catalogue says is rejected is rejected with that
 * message, every other case is admitted. What the operator does with the admitted ones is
 * BadInputCatalogueIT's part.
 */
class BadInputCatalogueTest {

  private static final ManifestValidator VALIDATOR = ManifestValidator.forPackagedCrds();

  private static final List<Case> CASES = BadInputCatalogue.load();

  /** The reasons of Ready=False (docs/crd-reference.md); a catalogue case expects one of them. */
  private static final Set<String> FAILURE_REASONS =
      Set.of(
          Reasons.INVALID_SPEC,
          Reasons.CONNECTION_NOT_FOUND,
          Reasons.NOT_ALLOWED,
          Reasons.INVALID_CONNECTION,
          Reasons.PROJECT_NOT_FOUND,
          Reasons.SECRET_CONFLICT,
          Reasons.ROBOT_CONFLICT,
          Reasons.CREDENTIAL_REJECTED,
          Reasons.UNAUTHORIZED,
          Reasons.FORBIDDEN,
          Reasons.HARBOR_REJECTED,
          Reasons.HARBOR_UNREACHABLE,
          Reasons.HARBOR_ERROR,
          Reasons.HARBOR_READ_ONLY,
          Reasons.HARBOR_VERSION_UNSUPPORTED,
          Reasons.RATE_LIMITED,
          Reasons.KUBERNETES_ERROR);

  private static final Map<String, Class<? extends HasMetadata>> MODEL =
      Map.of(
          "HarborRobot", HarborRobot.class,
          "HarborConnection", HarborConnection.class,
          "ClusterHarborConnection", ClusterHarborConnection.class);

  @Test
  void theCatalogueHasAtLeastFortyFiveCasesOfBothKinds() {
    assertThat(BadInputCatalogue.allFiles())
        .as("every file of the folder but its README is a case (*.yaml)")
        .allMatch(f -> f.endsWith(".yaml") || f.equals("README.md"));
    assertThat(CASES).hasSizeGreaterThanOrEqualTo(45);
    assertThat(CASES).filteredOn(c -> c.outcome() == Outcome.REJECTED).hasSizeGreaterThan(40);
    assertThat(CASES).filteredOn(c -> c.outcome() == Outcome.REASON).hasSizeGreaterThan(10);
  }

  @Test
  void everyCaseStatesItsExpectedOutcomeAndWhy() {
    for (Case c : CASES) {
      assertThat(c.outcome())
          .as("%s: first header line '# expect: rejected: <message>' or '# expect: reason: <X>'", c)
          .isNotNull();
      assertThat(c.why()).as("%s: '# why: <sentence>'", c).isNotBlank();
      assertThat(c.documents()).as("%s: documents", c).isNotEmpty();
      if (c.outcome() == Outcome.REASON) {
        assertThat(c.expected()).as("%s: a Ready=False reason", c).isIn(FAILURE_REASONS);
      }
      for (String given : c.given()) {
        assertThat(given)
            .as("%s: the only set-up the integration test knows", c)
            .matches("harbor-robot: [a-z0-9-]+/[a-z0-9-]+");
      }
    }
  }

  @Test
  void everyRejectedCaseIsRefusedWithItsMessage() {
    List<String> wrong = new ArrayList<>();
    for (Case c : CASES) {
      if (c.outcome() != Outcome.REJECTED) {
        continue;
      }
      assertThat(c.documents()).as("%s: one document, the refused one", c).hasSize(1);
      String rejection = VALIDATOR.rejection(c.documents().get(0), null);
      if (rejection == null || !rejection.contains(c.expected())) {
        wrong.add(c.file() + "\n  expected: " + c.expected() + "\n  actual:   " + rejection);
      }
    }
    assertThat(wrong).as("cases not refused with their message").isEmpty();
  }

  @Test
  void everyReasonCaseIsAdmittedWithOneRobotInANamespaceOfItsOwn() {
    Map<String, String> robotNamespaces = new HashMap<>();
    for (Case c : CASES) {
      if (c.outcome() != Outcome.REASON) {
        continue;
      }
      for (Map<String, Object> document : c.documents()) {
        assertThat(VALIDATOR.rejection(document, null))
            .as("%s: %s %s is admitted", c, document.get("kind"), BadInputCatalogue.name(document))
            .isNull();
        if (!"ClusterHarborConnection".equals(document.get("kind"))) {
          assertThat(BadInputCatalogue.namespace(document))
              .as("%s: %s names its namespace", c, BadInputCatalogue.name(document))
              .isNotBlank();
        }
      }
      assertThat(c.robots()).as("%s: one HarborRobot", c).hasSize(1);
      String namespace = BadInputCatalogue.namespace(c.robots().get(0));
      assertThat(robotNamespaces.put(namespace, c.file()))
          .as("%s: namespace %s is another case's", c, namespace)
          .isNull();
    }
  }

  /**
   * The {@code model: unreadable} marks are exactly the cases whose objects the operator's model
   * classes cannot read strictly, as a non-validating API server would hand them over. The model
   * reads them anyway ({@code TolerantDeserializer}, which informers use through the Kubernetes
   * client's serialization), and names the field the API server names, so that the operator can
   * report it instead of its informer failing.
   */
  @Test
  void unreadableCasesAreReadWithTheRefusedFieldNamed() {
    KubernetesSerialization serialization = new KubernetesSerialization();
    List<String> wrong = new ArrayList<>();
    for (Case c : CASES) {
      List<String> problems = new ArrayList<>();
      for (Map<String, Object> document : c.documents()) {
        Class<? extends HasMetadata> type = MODEL.get((String) document.get("kind"));
        if (type == null) {
          continue;
        }
        HasMetadata read = serialization.unmarshal(serialization.asJson(document), type);
        assertThat(read.getMetadata().getName()).as("%s: metadata", c).isNotBlank();
        problems.addAll(((ReadProblems) read).readProblems());
      }
      if (problems.isEmpty() == c.unreadable()) {
        wrong.add(c.file() + (problems.isEmpty() ? " is readable" : " is unreadable"));
      }
      if (c.unreadable()) {
        assertThat(c.outcome()).as("%s: refused by the API server", c).isEqualTo(Outcome.REJECTED);
        assertThat(problems)
            .as("%s: what was set aside", c)
            .anySatisfy(
                problem ->
                    assertThat(problem).contains(BadInputCatalogue.refusedField(c.expected())));
      }
    }
    assertThat(wrong).as("cases whose 'model: unreadable' mark is wrong").isEmpty();
  }

  /**
   * The {@code unvalidated} lines, which BadInputCatalogueIT checks: on rejected HarborRobots the
   * model can read, naming a reason of the Ready condition.
   */
  @Test
  void unvalidatedLinesAreOnReadableRejectedRobots() {
    assertThat(CASES).filteredOn(c -> c.unvalidated() != null).hasSizeGreaterThan(30);
    for (Case c : CASES) {
      if (c.unvalidated() == null) {
        continue;
      }
      assertThat(c.outcome()).as("%s: rejected", c).isEqualTo(Outcome.REJECTED);
      assertThat(c.unreadable()).as("%s: readable", c).isFalse();
      assertThat(c.robots()).as("%s: a HarborRobot", c).hasSize(1);
      assertThat(c.unvalidated())
          .as("%s: a reason of Ready", c)
          .isIn(
              Stream.concat(FAILURE_REASONS.stream(), Stream.of(Reasons.SYNCED, Reasons.DISABLED))
                  .toList());
    }
  }
}
