package io.harborrobot.operator.sandbox;

import java.util.LinkedHashMap;
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

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object value) {
    return value instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
  }
}
