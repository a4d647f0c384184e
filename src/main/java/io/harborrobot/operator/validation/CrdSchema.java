package io.harborrobot.operator.validation;

import static io.harborrobot.operator.validation.Values.asList;
import static io.harborrobot.operator.validation.Values.asMap;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One served version of a CustomResourceDefinition: its OpenAPI schema, and the steps the API
 * server takes while decoding a request body before it validates anything: finding fields the
 * schema does not declare (pruning, which strict field validation turns into an error) and
 * defaulting.
 *
 * <p>Defaulting follows the structural-schema rules: an absent property of an object that is
 * present gets a copy of its {@code default}; a {@code null} property that is not {@code nullable}
 * gets its default, or is removed when it has none; a {@code null} list item that is not nullable
 * gets the items' default.
 */
final class CrdSchema {

  /** The ObjectMeta fields a client may send. */
  private static final Set<String> OBJECT_META_FIELDS =
      Set.of(
          "name",
          "generateName",
          "namespace",
          "selfLink",
          "uid",
          "resourceVersion",
          "generation",
          "creationTimestamp",
          "deletionTimestamp",
          "deletionGracePeriodSeconds",
          "labels",
          "annotations",
          "ownerReferences",
          "finalizers",
          "managedFields");

  private static final JsonMapper JSON =
      JsonMapper.builder().enable(DeserializationFeature.USE_LONG_FOR_INTS).build();

  private final String name;
  private final String group;
  private final String version;
  private final String kind;
  private final boolean namespaced;
  private final boolean statusSubresource;
  private final Map<String, Object> schema;

  private CrdSchema(
      String name,
      String group,
      String version,
      String kind,
      boolean namespaced,
      boolean statusSubresource,
      Map<String, Object> schema) {
    this.name = name;
    this.group = group;
    this.version = version;
    this.kind = kind;
    this.namespaced = namespaced;
    this.statusSubresource = statusSubresource;
    this.schema = schema;
  }

  /** The served versions of a CRD. */
  static List<CrdSchema> servedVersions(
      CustomResourceDefinition crd, KubernetesSerialization serialization) {
    Map<String, Object> tree;
    try {
      tree = asMap(JSON.readValue(serialization.asJson(crd), Map.class));
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("cannot read the CRD " + crd.getMetadata(), e);
    }
    Map<String, Object> spec = asMap(tree.get("spec"));
    String crdName = (String) asMap(tree.get("metadata")).get("name");
    String group = (String) spec.get("group");
    String kind = (String) asMap(spec.get("names")).get("kind");
    boolean namespaced = !"Cluster".equals(spec.get("scope"));
    List<CrdSchema> result = new ArrayList<>();
    for (Object v : asList(spec.get("versions"))) {
      Map<String, Object> version = asMap(v);
      if (Boolean.FALSE.equals(version.get("served"))) {
        continue;
      }
      Map<String, Object> openApi = asMap(asMap(version.get("schema")).get("openAPIV3Schema"));
      result.add(
          new CrdSchema(
              crdName,
              group,
              (String) version.get("name"),
              kind,
              namespaced,
              asMap(version.get("subresources")).get("status") != null,
              openApi));
    }
    return result;
  }

  /** The CRD's name, e.g. harborrobots.harborrobot.io. */
  String name() {
    return name;
  }

  String version() {
    return version;
  }

  String kind() {
    return kind;
  }

  String apiVersion() {
    return group + "/" + version;
  }

  /** The CRD name and version, e.g. harborrobots.harborrobot.io/v1alpha1. */
  String key() {
    return name + "/" + version;
  }

  boolean namespaced() {
    return namespaced;
  }

  boolean statusSubresource() {
    return statusSubresource;
  }

  /** The openAPIV3Schema. */
  Map<String, Object> schema() {
    return schema;
  }

  // ------------------------------------------------------------------------------------------
  // Decoding: unknown fields
  // ------------------------------------------------------------------------------------------

  /**
   * The fields of the object that the schema does not declare, as the API server's pruning finds
   * them (e.g. {@code spec.foo}, {@code spec.permissions[0].verbs}, {@code metadata.lables}),
   * sorted. Fields below {@code x-kubernetes-preserve-unknown-fields: true} are kept.
   */
  List<String> unknownFields(Map<String, Object> object) {
    List<String> unknown = new ArrayList<>();
    unknown(object, schema, "", true, unknown);
    unknown.sort(null);
    return unknown;
  }

  private static void unknown(
      Object value, Map<String, Object> schema, String path, boolean resource, List<String> out) {
    if (value instanceof Map<?, ?> raw) {
      Map<String, Object> properties = asMap(schema.get("properties"));
      boolean embedded =
          resource || Boolean.TRUE.equals(schema.get("x-kubernetes-embedded-resource"));
      boolean preserve = Boolean.TRUE.equals(schema.get("x-kubernetes-preserve-unknown-fields"));
      Object additional = schema.get("additionalProperties");
      asMap(raw)
          .forEach(
              (field, v) -> {
                String at = path.isEmpty() ? field : path + "." + field;
                if (embedded && field.equals("metadata")) {
                  if (v instanceof Map<?, ?> metadata) {
                    for (Object key : metadata.keySet()) {
                      if (!OBJECT_META_FIELDS.contains(String.valueOf(key))) {
                        out.add(at + "." + key);
                      }
                    }
                  }
                } else if (embedded
                    && (field.equals("apiVersion") || field.equals("kind"))
                    && !properties.containsKey(field)) {
                  // part of every resource
                } else if (properties.containsKey(field)) {
                  unknown(v, asMap(properties.get(field)), at, false, out);
                } else if (additional instanceof Map<?, ?> values) {
                  unknown(v, asMap(values), at, false, out);
                } else if (!preserve && !Boolean.TRUE.equals(additional)) {
                  out.add(at);
                }
              });
    } else if (value instanceof List<?> list && schema.get("items") instanceof Map<?, ?> items) {
      for (int i = 0; i < list.size(); i++) {
        unknown(list.get(i), asMap(items), path + "[" + i + "]", false, out);
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // Decoding: defaulting
  // ------------------------------------------------------------------------------------------

  /** Defaults the object in place (see the class comment). */
  void applyDefaults(Map<String, Object> object) {
    applyDefaults(object, schema);
  }

  private static void applyDefaults(Object value, Map<String, Object> schema) {
    if (value instanceof Map<?, ?> raw) {
      Map<String, Object> map = asMap(raw);
      Map<String, Object> properties = asMap(schema.get("properties"));
      properties.forEach(
          (name, property) -> {
            Map<String, Object> propertySchema = asMap(property);
            if (map.containsKey(name) && map.get(name) == null && !nullable(propertySchema)) {
              map.remove(name);
            }
            if (!map.containsKey(name) && propertySchema.containsKey("default")) {
              map.put(name, Values.copy(propertySchema.get("default")));
            }
            if (map.containsKey(name)) {
              applyDefaults(map.get(name), propertySchema);
            }
          });
      if (schema.get("additionalProperties") instanceof Map<?, ?> values) {
        Map<String, Object> valueSchema = asMap(values);
        for (Iterator<Map.Entry<String, Object>> it = map.entrySet().iterator(); it.hasNext(); ) {
          Map.Entry<String, Object> entry = it.next();
          if (properties.containsKey(entry.getKey())) {
            continue;
          }
          if (entry.getValue() == null && !nullable(valueSchema)) {
            if (valueSchema.containsKey("default")) {
              entry.setValue(Values.copy(valueSchema.get("default")));
            } else {
              it.remove();
              continue;
            }
          }
          applyDefaults(entry.getValue(), valueSchema);
        }
      }
    } else if (value instanceof List<?> raw && schema.get("items") instanceof Map<?, ?> items) {
      @SuppressWarnings("unchecked")
      List<Object> list = (List<Object>) raw;
      Map<String, Object> itemSchema = asMap(items);
      for (int i = 0; i < list.size(); i++) {
        if (list.get(i) == null && !nullable(itemSchema) && itemSchema.containsKey("default")) {
          list.set(i, Values.copy(itemSchema.get("default")));
        }
        applyDefaults(list.get(i), itemSchema);
      }
    }
  }

  static boolean nullable(Map<String, Object> schema) {
    return Boolean.TRUE.equals(schema.get("nullable"));
  }

  @Override
  public String toString() {
    return key();
  }
}
