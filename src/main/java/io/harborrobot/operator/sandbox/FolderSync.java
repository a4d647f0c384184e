package io.harborrobot.operator.sandbox;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.harborrobot.operator.sandbox.ManifestFolder.Manifest;
import io.harborrobot.operator.sandbox.ManifestFolder.Snapshot;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Keeps the API server in line with a folder, as GitOps keeps a cluster in line with a repository:
 * new and changed manifests are applied (when admission accepts them), manifests removed from the
 * folder are deleted, unchanged ones are left alone. Only what this sync applied is ever deleted,
 * and nothing from a file that cannot be read at the moment.
 */
final class FolderSync {

  /** What an API server's admission says of a manifest: {@code null} to accept, else why not. */
  @FunctionalInterface
  interface Admission {
    String rejection(Map<String, Object> manifest, Map<String, Object> stored);
  }

  /** The outcome of one pass: what is rejected now, and what could not be read. */
  record Result(List<String> rejections, List<String> problems) {
    boolean clean() {
      return rejections.isEmpty() && problems.isEmpty();
    }
  }

  private final KubernetesClient client;
  private final HarborEmulator harbor;
  private final Admission admission;
  private final Consumer<String> log;
  private final Map<String, Manifest> applied = new LinkedHashMap<>();
  private final Map<String, Map<String, Object>> lastRejected = new HashMap<>();
  private List<String> lastProblems = List.of();

  FolderSync(
      KubernetesClient client, HarborEmulator harbor, Admission admission, Consumer<String> log) {
    this.client = client;
    this.harbor = harbor;
    this.admission = admission;
    this.log = log;
  }

  /** One pass over the folder's current content. */
  Result sync(Snapshot snapshot) {
    if (!snapshot.problems().equals(lastProblems)) {
      snapshot.problems().forEach(log);
      lastProblems = snapshot.problems();
    }
    List<String> rejections = new ArrayList<>();
    for (Manifest manifest : inApplyOrder(snapshot.manifests())) {
      String rejection = apply(manifest);
      if (rejection != null) {
        rejections.add(rejection);
      }
    }
    Set<String> present =
        snapshot.manifests().stream().map(Manifest::key).collect(Collectors.toSet());
    List<Manifest> removed =
        applied.values().stream()
            .filter(m -> !present.contains(m.key()))
            .filter(m -> !snapshot.unreadableFiles().contains(m.file()))
            .sorted(applyOrder().reversed())
            .toList();
    removed.forEach(this::delete);
    lastRejected.keySet().retainAll(present);
    return new Result(List.copyOf(rejections), snapshot.problems());
  }

  /** Applies {@code manifest} unless it is unchanged; returns why admission refused it, if so. */
  private String apply(Manifest manifest) {
    Manifest previous = applied.get(manifest.key());
    if (previous != null && previous.object().equals(manifest.object())) {
      return null;
    }
    HasMetadata stored = client.resource(manifest.typed()).get();
    Map<String, Object> storedMap = stored == null ? null : asMap(stored);
    String rejection = admission.rejection(manifest.object(), storedMap);
    if (rejection != null) {
      String message = "error: " + manifest.source() + ": " + rejection;
      if (!manifest.object().equals(lastRejected.put(manifest.key(), manifest.object()))) {
        log.accept(message);
      }
      return message;
    }
    lastRejected.remove(manifest.key());
    if (manifest.kind().type() == io.harborrobot.operator.api.v1alpha1.HarborRobot.class) {
      projectsOf(manifest.object()).forEach(harbor::createProject);
    }
    write(manifest, stored == null ? null : storedMap, previous);
    applied.put(manifest.key(), manifest);
    log.accept(manifest.display() + (stored == null ? " created" : " configured"));
    return null;
  }

  private void write(Manifest manifest, Map<String, Object> stored, Manifest previous) {
    if (stored == null) {
      client.resource(manifest.typed()).create();
      return;
    }
    for (int attempt = 1; ; attempt++) {
      Map<String, Object> merged =
          ApplyMerge.merge(stored, previous == null ? null : previous.object(), manifest.object());
      HasMetadata object = Serialization.jsonMapper().convertValue(merged, manifest.kind().type());
      try {
        client.resource(object).update();
        return;
      } catch (KubernetesClientException e) {
        // The operator wrote the object in between (a status, a finalizer): read it again.
        if (e.getCode() != 409 || attempt == 5) {
          throw e;
        }
        stored = asMap(client.resource(manifest.typed()).get());
      }
    }
  }

  private void delete(Manifest manifest) {
    client.resource(manifest.typed()).delete();
    applied.remove(manifest.key());
    log.accept(manifest.display() + " deleted");
  }

  /** The Harbor projects a HarborRobot manifest names, which the emulator must have. */
  @SuppressWarnings("unchecked")
  private static List<String> projectsOf(Map<String, Object> robot) {
    Map<String, Object> spec =
        robot.get("spec") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    List<String> projects = new ArrayList<>();
    if (spec.get("project") instanceof String project) {
      projects.add(project);
    }
    if (spec.get("projects") instanceof List<?> grants) {
      for (Object grant : grants) {
        if (grant instanceof Map<?, ?> g && g.get("name") instanceof String name) {
          projects.add(name);
        }
      }
    }
    return projects.stream().filter(p -> !p.equals("*")).filter(Objects::nonNull).toList();
  }

  private static List<Manifest> inApplyOrder(List<Manifest> manifests) {
    return manifests.stream().sorted(applyOrder()).toList();
  }

  private static Comparator<Manifest> applyOrder() {
    return Comparator.comparingInt((Manifest m) -> ManifestFolder.KINDS.indexOf(m.kind()))
        .thenComparing(Manifest::source);
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> asMap(HasMetadata object) {
    try {
      return ManifestFolder.YAML.readValue(Serialization.asJson(object), Map.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
