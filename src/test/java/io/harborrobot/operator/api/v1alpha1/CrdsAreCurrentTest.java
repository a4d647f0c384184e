package io.harborrobot.operator.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.Pluralize;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Fails the build when the CRDs committed under {@code crds/} differ from what the fabric8
 * crd-generator makes of the Java model. Run with {@code -Dcrds.update=true} to rewrite them (and
 * the Helm chart's copy).
 *
 * <p>The generator sorts printer columns by JSON path; kubectl shows them in list order, so they
 * are put into the order people read them in before the comparison.
 */
class CrdsAreCurrentTest {

  /** The committed copies: the repository's, and the Helm chart's (which Helm installs). */
  private static final List<Path> COMMITTED =
      List.of(Path.of("crds"), Path.of("helm/harbor-robot-operator/crds"));

  private static final Map<String, List<String>> COLUMN_ORDER =
      Map.of(
          "harborrobots.harborrobot.io-v1.yml",
          List.of("Project", "Robot", "Ready", "Reason", "Expires", "Age"),
          "harborconnections.harborrobot.io-v1.yml",
          List.of("URL", "Version", "Ready", "Age"),
          "clusterharborconnections.harborrobot.io-v1.yml",
          List.of("URL", "Version", "Ready", "Age"));

  static List<String> crdFiles() {
    return List.copyOf(COLUMN_ORDER.keySet());
  }

  @ParameterizedTest
  @MethodSource("crdFiles")
  void committedCrdMatchesTheJavaModel(String file) throws IOException {
    String expected = render(file);
    for (Path folder : COMMITTED) {
      Path committed = folder.resolve(file);
      if (Boolean.getBoolean("crds.update")) {
        Files.createDirectories(folder);
        Files.writeString(committed, expected, StandardCharsets.UTF_8);
      }
      String stale =
          committed + " is stale: run mvn -B test -Dtest=CrdsAreCurrentTest -Dcrds.update=true";
      assertThat(committed).as(stale).exists();
      assertThat(Files.readString(committed, StandardCharsets.UTF_8)).as(stale).isEqualTo(expected);
    }
  }

  private static String render(String file) throws IOException {
    CustomResourceDefinition crd;
    try (InputStream in =
        CrdsAreCurrentTest.class.getClassLoader().getResourceAsStream("META-INF/fabric8/" + file)) {
      assertThat(in).as("generated %s (crd-generator-maven-plugin output)", file).isNotNull();
      crd = Serialization.unmarshal(in, CustomResourceDefinition.class);
    }
    List<String> order = COLUMN_ORDER.get(file);
    crd.getSpec()
        .getVersions()
        .forEach(
            v -> {
              List<CustomResourceColumnDefinition> columns = v.getAdditionalPrinterColumns();
              assertThat(columns)
                  .extracting(CustomResourceColumnDefinition::getName)
                  .containsExactlyInAnyOrderElementsOf(order);
              columns.sort(Comparator.comparingInt(c -> order.indexOf(c.getName())));
            });
    return "# Generated from the Java model by the fabric8 crd-generator; do not edit.\n"
        + "# Regenerate: mvn -B test -Dtest=CrdsAreCurrentTest -Dcrds.update=true\n"
        + Serialization.asYaml(crd);
  }

  /**
   * The plurals are spelled out on the model classes (so that fabric8 does not derive them for
   * every instance); they must stay what Kubernetes' naming would derive from the kind.
   */
  @ParameterizedTest
  @ValueSource(classes = {HarborRobot.class, HarborConnection.class, ClusterHarborConnection.class})
  void spelledOutPluralsAreTheDerivedOnes(Class<? extends HasMetadata> model) {
    assertThat(HasMetadata.getPlural(model))
        .isEqualTo(Pluralize.toPlural(HasMetadata.getSingular(model)))
        .isEqualTo(HasMetadata.getKind(model).toLowerCase(java.util.Locale.ROOT) + "s");
  }
}
