package io.harborrobot.operator.sandbox;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.harborrobot.operator.api.v1alpha1.ClusterHarborConnection;
import io.harborrobot.operator.api.v1alpha1.HarborConnection;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * A folder of manifests, read the way GitOps reads a repository: every document of every {@code
 * *.yaml} / {@code *.yml} file, in file order. A document that cannot be read is reported, never
 * guessed at; the others are still read.
 */
public final class ManifestFolder {

  /** Parses YAML the way the CRD rules see numbers (integers as longs); duplicate keys refused. */
  static final ObjectMapper YAML =
      YAMLMapper.builder()
          .enable(DeserializationFeature.USE_LONG_FOR_INTS)
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .build();

  /** A kind the sandbox stores, where its objects live, and in which order it applies them. */
  record Kind(
      String apiVersion, String kind, Class<? extends HasMetadata> type, boolean namespaced) {}

  /** Applied in this order (and removed in the reverse): what others refer to comes first. */
  static final List<Kind> KINDS =
      List.of(
          new Kind("v1", "Namespace", Namespace.class, false),
          new Kind("v1", "Secret", Secret.class, true),
          new Kind("v1", "ServiceAccount", ServiceAccount.class, true),
          new Kind("harborrobot.io/v1alpha1", "HarborConnection", HarborConnection.class, true),
          new Kind(
              "harborrobot.io/v1alpha1",
              "ClusterHarborConnection",
              ClusterHarborConnection.class,
              false),
          new Kind("harborrobot.io/v1alpha1", "HarborRobot", HarborRobot.class, true),
          new Kind("apps/v1", "Deployment", Deployment.class, true));

  /**
   * One object of the folder.
   *
   * @param file the file it is in
   * @param source file and document number, for messages
   * @param kind what it is
   * @param namespace its namespace ({@code default} when a namespaced object names none), or {@code
   *     null} for a cluster-scoped one
   * @param name its name
   * @param object the document as read (namespace filled in)
   */
  public record Manifest(
      Path file,
      String source,
      Kind kind,
      String namespace,
      String name,
      Map<String, Object> object) {

    /** Identifies the object in the API server: kind, namespace and name. */
    public String key() {
      return kind.kind() + "/" + (namespace == null ? "" : namespace + "/") + name;
    }

    /** As kubectl names it: {@code harborrobot.harborrobot.io/pull}, with its namespace. */
    public String display() {
      return ManifestFolder.display(kind, namespace, name);
    }
  }

  static String display(Kind kind, String namespace, String name) {
    String group =
        kind.apiVersion().contains("/")
            ? "." + kind.apiVersion().substring(0, kind.apiVersion().indexOf('/'))
            : "";
    return kind.kind().toLowerCase()
        + group
        + "/"
        + name
        + (namespace == null ? "" : " (namespace " + namespace + ")");
  }

  /**
   * What the folder holds.
   *
   * @param manifests the objects that could be read, each once
   * @param problems what could not be read, one message each
   * @param unreadableFiles files with a problem: their objects must not be taken as removed
   */
  public record Snapshot(
      List<Manifest> manifests, List<String> problems, Set<Path> unreadableFiles) {}

  private ManifestFolder() {}

  public static Snapshot read(Path dir) {
    List<Manifest> manifests = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    Set<Path> unreadable = new TreeSet<>();
    Map<String, String> seen = new LinkedHashMap<>();
    for (Path file : files(dir)) {
      List<Object> documents;
      try {
        documents = documents(file);
      } catch (IOException e) {
        problems.add("error: error parsing " + file + ": " + firstLine(e));
        unreadable.add(file);
        continue;
      }
      for (int i = 0; i < documents.size(); i++) {
        Object document = documents.get(i);
        if (document == null) {
          continue; // an empty document, e.g. after a trailing ---
        }
        String source =
            documents.size() == 1 ? file.toString() : file + " (document " + (i + 1) + ")";
        try {
          Manifest manifest = manifest(file, source, document);
          String first = seen.putIfAbsent(manifest.key(), source);
          if (first != null) {
            problems.add(
                "error: "
                    + source
                    + " defines "
                    + manifest.display()
                    + " again (first in "
                    + first
                    + "); ignored");
            unreadable.add(file);
            continue;
          }
          manifests.add(manifest);
        } catch (IllegalArgumentException e) {
          problems.add("error: " + source + ": " + e.getMessage());
          unreadable.add(file);
        }
      }
    }
    return new Snapshot(List.copyOf(manifests), List.copyOf(problems), Set.copyOf(unreadable));
  }

  private static List<Path> files(Path dir) {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml"))
          .filter(Files::isRegularFile)
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read manifests from " + dir, e);
    }
  }

  private static List<Object> documents(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.UTF_8);
    List<Object> documents = new ArrayList<>();
    try (MappingIterator<Object> values = YAML.readerFor(Object.class).readValues(text)) {
      while (values.hasNextValue()) {
        documents.add(values.nextValue());
      }
    }
    return documents;
  }

  @SuppressWarnings("unchecked")
  private static Manifest manifest(Path file, String source, Object document) {
    if (!(document instanceof Map<?, ?> map)) {
      // the type only: the document may be a list of Secrets, whose values must not be printed
      throw new IllegalArgumentException(
          "a manifest must be an object, not "
              + (document instanceof List<?>
                  ? "a list"
                  : "a " + document.getClass().getSimpleName()));
    }
    Map<String, Object> object = new LinkedHashMap<>((Map<String, Object>) map);
    Object apiVersion = object.get("apiVersion");
    Object kindName = object.get("kind");
    if (!(apiVersion instanceof String) || !(kindName instanceof String)) {
      throw new IllegalArgumentException("Object 'Kind' is missing or apiVersion is not set");
    }
    Kind kind =
        KINDS.stream()
            .filter(k -> k.kind().equals(kindName) && k.apiVersion().equals(apiVersion))
            .findFirst()
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "no matches for kind \""
                            + kindName
                            + "\" in version \""
                            + apiVersion
                            + "\" (the sandbox stores "
                            + String.join(", ", KINDS.stream().map(Kind::kind).toList())
                            + ")"));
    if (!(object.get("metadata") instanceof Map<?, ?> metadataMap)) {
      throw new IllegalArgumentException("metadata is missing");
    }
    Map<String, Object> metadata = new LinkedHashMap<>((Map<String, Object>) metadataMap);
    object.put("metadata", metadata);
    if (!(metadata.get("name") instanceof String name) || name.isBlank()) {
      throw new IllegalArgumentException("metadata.name: Required value: name is required");
    }
    String namespace = null;
    if (kind.namespaced()) {
      namespace = metadata.get("namespace") instanceof String ns && !ns.isBlank() ? ns : "default";
      metadata.put("namespace", namespace);
    } else {
      metadata.remove("namespace");
    }
    return new Manifest(file, source, kind, namespace, name, object);
  }

  private static String firstLine(Exception e) {
    String message =
        e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
    message =
        message == null ? e.getClass().getSimpleName() : message.lines().findFirst().orElse("");
    if (e instanceof JsonProcessingException j && j.getLocation() != null) {
      return "line "
          + j.getLocation().getLineNr()
          + ", column "
          + j.getLocation().getColumnNr()
          + ": "
          + message;
    }
    return message;
  }
}
