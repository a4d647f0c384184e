package io.harborrobot.operator.sandbox;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What {@code kubectl apply} does to an object that exists, to the depth the sandbox needs: the
 * manifest's fields replace the stored ones, fields the previous manifest had and this one does not
 * are removed, and everything else (status, finalizers, resourceVersion, owner references, labels
 * and annotations someone else set, such as the operator's on a ServiceAccount) stays.
 */
final class ApplyMerge {

  /** Metadata fields a manifest sets; the rest of metadata belongs to the API server. */
  private static final Set<String> MERGED_METADATA = Set.of("labels", "annotations");

  /**
   * Lists merged item by item on their {@code name}, as kubectl's strategic merge does for a
   * ServiceAccount: the operator adds its pull Secret to {@code imagePullSecrets}.
   */
  private static final Set<String> MERGED_BY_NAME = Set.of("imagePullSecrets", "secrets");

  private ApplyMerge() {}

  /**
   * @param stored the object as the API server has it
   * @param lastApplied the manifest applied last time, or {@code null}
   * @param manifest the manifest to apply now
   * @return the object to write
   */
  static Map<String, Object> merge(
      Map<String, Object> stored, Map<String, Object> lastApplied, Map<String, Object> manifest) {
    Map<String, Object> previous = lastApplied == null ? Map.of() : lastApplied;
    Map<String, Object> result = new LinkedHashMap<>(stored);
    for (String field : previous.keySet()) {
      if (!manifest.containsKey(field) && !field.equals("metadata") && !field.equals("status")) {
        result.remove(field);
      }
    }
    for (Map.Entry<String, Object> field : manifest.entrySet()) {
      if (!field.getKey().equals("metadata") && !field.getKey().equals("status")) {
        result.put(field.getKey(), field.getValue());
      }
    }
    for (String list : MERGED_BY_NAME) {
      List<Object> merged =
          mergeByName(list(stored.get(list)), list(previous.get(list)), list(manifest.get(list)));
      if (merged.isEmpty()) {
        result.remove(list);
      } else {
        result.put(list, merged);
      }
    }
    Map<String, Object> metadata = new LinkedHashMap<>(map(stored.get("metadata")));
    Map<String, Object> previousMetadata = map(previous.get("metadata"));
    Map<String, Object> manifestMetadata = map(manifest.get("metadata"));
    for (String field : MERGED_METADATA) {
      Map<String, Object> merged =
          mergeEntries(
              map(metadata.get(field)),
              map(previousMetadata.get(field)),
              map(manifestMetadata.get(field)));
      if (merged.isEmpty()) {
        metadata.remove(field);
      } else {
        metadata.put(field, merged);
      }
    }
    result.put("metadata", metadata);
    return result;
  }

  /** Entries of {@code stored}, without those the previous manifest set, plus the manifest's. */
  private static Map<String, Object> mergeEntries(
      Map<String, Object> stored, Map<String, Object> previous, Map<String, Object> manifest) {
    Map<String, Object> result = new LinkedHashMap<>(stored);
    previous.keySet().forEach(result::remove);
    result.putAll(manifest);
    return result;
  }

  /**
   * The stored items, without those the previous manifest had and this one does not, with this
   * manifest's items in place of stored ones of the same name and after them when new.
   */
  private static List<Object> mergeByName(
      List<Object> stored, List<Object> previous, List<Object> manifest) {
    Set<Object> dropped = new java.util.HashSet<>(names(previous));
    dropped.removeAll(names(manifest));
    Map<Object, Object> byName = new LinkedHashMap<>();
    for (Object item : stored) {
      Object name = nameOf(item);
      if (!dropped.contains(name)) {
        byName.put(name, item);
      }
    }
    for (Object item : manifest) {
      byName.put(nameOf(item), item);
    }
    return new ArrayList<>(byName.values());
  }

  private static Set<Object> names(List<Object> items) {
    Set<Object> names = new java.util.HashSet<>();
    items.forEach(item -> names.add(nameOf(item)));
    return names;
  }

  private static Object nameOf(Object item) {
    return item instanceof Map<?, ?> m && m.get("name") != null ? m.get("name") : item;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(Object value) {
    return value instanceof List<?> l ? (List<Object>) l : List.of();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object value) {
    return value instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
  }
}
