package io.harborrobot.operator.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every property of every CRD under {@code crds/} has a description: it is what {@code kubectl
 * explain} prints. Paths are written {@code spec.access[].namespaceSelector} ({@code []} an array's
 * items, {@code {}} a map's values).
 */
class CrdDescriptionsTest {

  private static final Path CRDS = Path.of("crds");

  @Test
  void everyPropertyHasADescription() throws IOException {
    List<Path> files;
    try (Stream<Path> listing = Files.list(CRDS)) {
      files = listing.filter(f -> f.toString().endsWith(".yml")).sorted().toList();
    }
    assertThat(files).as("CRDs in %s", CRDS.toAbsolutePath()).isNotEmpty();

    List<String> missing = new ArrayList<>();
    for (Path file : files) {
      CustomResourceDefinition crd;
      try (InputStream in = Files.newInputStream(file)) {
        crd = Serialization.unmarshal(in, CustomResourceDefinition.class);
      }
      for (CustomResourceDefinitionVersion version : crd.getSpec().getVersions()) {
        String where = file.getFileName() + " " + version.getName() + ": ";
        assertThat(version.getSchema()).as(where + "schema").isNotNull();
        walk(version.getSchema().getOpenAPIV3Schema(), "", where, missing);
      }
    }
    assertThat(missing).as("properties without a description").isEmpty();
  }

  private static void walk(JSONSchemaProps schema, String path, String where, List<String> out) {
    if (schema == null) {
      return;
    }
    if (schema.getProperties() != null) {
      for (Map.Entry<String, JSONSchemaProps> e : schema.getProperties().entrySet()) {
        String child = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
        String description = e.getValue().getDescription();
        if (description == null || description.isBlank()) {
          out.add(where + child);
        }
        walk(e.getValue(), child, where, out);
      }
    }
    if (schema.getItems() != null) {
      walk(schema.getItems().getSchema(), path + "[]", where, out);
      if (schema.getItems().getJSONSchemas() != null) {
        schema.getItems().getJSONSchemas().forEach(s -> walk(s, path + "[]", where, out));
      }
    }
    if (schema.getAdditionalProperties() != null) {
      walk(schema.getAdditionalProperties().getSchema(), path + "{}", where, out);
    }
  }
}
