package io.harborrobot.operator.sandbox;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.sandbox.ManifestFolder.Kind;
import io.harborrobot.operator.sandbox.ManifestFolder.Manifest;
import io.harborrobot.operator.sandbox.ManifestFolder.Snapshot;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Keeps the API server in line with a folder, as GitOps keeps a cluster in line with a repository:
 * new and changed manifests are applied when admission accepts them, manifests removed from the
 * folder are deleted, unchanged ones are left alone. Deleting is careful, since it deletes robots
 * in Harbor: only what this sync applied, never from a file that cannot be read or holds a manifest
 * that was refused in the same pass, only after two passes in a row found it missing (a file being
 * saved can be read half-written), and what others depend on only once those are gone (a
 * HarborRobot's connection stays until the operator has deleted the robot in Harbor).
 */
final class FolderSync {

  /** What an API server's admission says of a manifest: {@code null} to accept, else why not. */
  @FunctionalInterface
  interface Admission {
    String rejection(Map<String, Object> manifest, Map<String, Object> stored);
  }

  /** The outcome of one pass: what is refused or failed now, and what could not be read. */
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

  /** The last message said about each object, so that a message is said once, not every pass. */
  private final Map<String, String> said = new HashMap<>();

  /** Objects missing from the folder in the previous pass. */
  private Set<String> missingBefore = new HashSet<>();

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
    Set<Path> troubled = new HashSet<>(snapshot.unreadableFiles());
    for (Manifest manifest : inApplyOrder(snapshot.manifests())) {
      String rejection = apply(manifest);
      if (rejection != null) {
        rejections.add(rejection);
        troubled.add(manifest.file());
      }
    }
    Set<String> present =
        snapshot.manifests().stream().map(Manifest::key).collect(Collectors.toSet());
    Set<String> missing =
        applied.values().stream()
            .filter(m -> !present.contains(m.key()))
            .filter(m -> !troubled.contains(m.file()))
            .map(Manifest::key)
            .collect(Collectors.toSet());
    deleteRemoved(missing.stream().filter(missingBefore::contains).collect(Collectors.toSet()));
    missingBefore = new HashSet<>(missing);
    said.keySet().retainAll(union(present, applied));
    return new Result(List.copyOf(rejections), snapshot.problems());
  }

  private static Set<String> union(Set<String> present, Map<String, Manifest> applied) {
    Set<String> all = new HashSet<>(present);
    all.addAll(applied.keySet());
    return all;
  }

  /**
   * Applies {@code manifest} unless it is unchanged; returns why it was not, when admission refused
   * it or the API server failed.
   */
  private String apply(Manifest manifest) {
    Manifest previous = applied.get(manifest.key());
    if (previous != null && previous.object().equals(manifest.object())) {
      applied.put(manifest.key(), manifest); // it may have moved to another file
      said.remove(manifest.key());
      return null;
    }
    try {
      // Admission first, on the manifest as written: a typo must get the API server's message,
      // not fail the conversion to a Java object.
      GenericKubernetesResource stored =
          resource(manifest.kind(), manifest.namespace(), manifest.name()).get();
      Map<String, Object> storedMap = stored == null ? null : asMap(stored);
      String rejection = admission.rejection(manifest.object(), storedMap);
      if (rejection != null) {
        return once(manifest.key(), "error: " + manifest.source() + ": " + rejection);
      }
      if (stored != null && stored.getMetadata().getDeletionTimestamp() != null) {
        // As the API server would refuse it: the object comes back once it is gone.
        return once(
            manifest.key(),
            "error: "
                + manifest.source()
                + ": "
                + manifest.display()
                + " is still being deleted; it is created again once it is gone");
      }
      if (manifest.kind().type() == HarborRobot.class) {
        projectsOf(manifest.object()).forEach(harbor::createProject);
      }
      write(manifest, storedMap, previous);
      applied.put(manifest.key(), manifest);
      said.remove(manifest.key());
      missingBefore.remove(manifest.key());
      log.accept(manifest.display() + (stored == null ? " created" : " configured"));
      return null;
    } catch (KubernetesClientException e) {
      // As kubectl would report it; the manifest is tried again on the next pass.
      return once(
          manifest.key(),
          "error: "
              + manifest.source()
              + ": Error from server ("
              + e.getCode()
              + "): "
              + Objects.toString(
                  e.getStatus() == null ? null : e.getStatus().getMessage(), e.getMessage()));
    } catch (IllegalArgumentException e) {
      // what admission let through but the object model cannot hold
      return once(manifest.key(), "error: " + manifest.source() + ": " + e.getMessage());
    }
  }

  /** Logs {@code message} unless it was the last thing said about {@code key}; returns it. */
  private String once(String key, String message) {
    if (!message.equals(said.put(key, message))) {
      log.accept(message);
    }
    return message;
  }

  private void write(Manifest manifest, Map<String, Object> stored, Manifest previous) {
    for (int attempt = 1; ; attempt++) {
      Map<String, Object> object =
          stored == null
              ? manifest.object()
              : ApplyMerge.merge(
                  stored, previous == null ? null : previous.object(), manifest.object());
      HasMetadata typed = Serialization.jsonMapper().convertValue(object, manifest.kind().type());
      try {
        if (stored == null) {
          client.resource(typed).create();
        } else {
          client.resource(typed).update();
        }
        return;
      } catch (KubernetesClientException e) {
        // The operator wrote the object in between (a status, a finalizer), or it came or went:
        // read it again.
        if ((e.getCode() != 409 && e.getCode() != 404) || attempt == 5) {
          throw e;
        }
        GenericKubernetesResource again =
            resource(manifest.kind(), manifest.namespace(), manifest.name()).get();
        stored = again == null ? null : asMap(again);
      }
    }
  }

  /**
   * Deletes what left the folder, in waves: a kind is deleted only once nothing of a kind applied
   * after it (and removed too) is left in the API server, so that a HarborRobot goes, and the
   * operator deletes its robot in Harbor, before its connection and credentials do.
   */
  private void deleteRemoved(Set<String> removed) {
    List<Manifest> going =
        applied.values().stream()
            .filter(m -> removed.contains(m.key()))
            .sorted(applyOrder().reversed())
            .toList();
    int waitingFor = -1;
    for (Manifest manifest : going) {
      int rank = ManifestFolder.KINDS.indexOf(manifest.kind());
      if (waitingFor > rank) {
        continue; // its dependents are still being deleted
      }
      if (delete(manifest)) {
        applied.remove(manifest.key());
        said.remove(manifest.key());
      } else {
        waitingFor = Math.max(waitingFor, rank);
      }
    }
  }

  /** Asks for the deletion; returns whether the object is gone. */
  private boolean delete(Manifest manifest) {
    try {
      Resource<GenericKubernetesResource> resource =
          resource(manifest.kind(), manifest.namespace(), manifest.name());
      GenericKubernetesResource stored = resource.get();
      if (stored == null) {
        return true;
      }
      if (stored.getMetadata().getDeletionTimestamp() == null) {
        resource.delete();
        log.accept(manifest.display() + " deleted");
      }
      return resource.get() == null;
    } catch (KubernetesClientException e) {
      once(manifest.key(), "error: deleting " + manifest.display() + ": " + e.getMessage());
      return false;
    }
  }

  private Resource<GenericKubernetesResource> resource(Kind kind, String namespace, String name) {
    NonNamespaceOperation<
            GenericKubernetesResource,
            io.fabric8.kubernetes.api.model.GenericKubernetesResourceList,
            Resource<GenericKubernetesResource>>
        operation =
            namespace == null
                ? client.genericKubernetesResources(kind.apiVersion(), kind.kind())
                : client
                    .genericKubernetesResources(kind.apiVersion(), kind.kind())
                    .inNamespace(namespace);
    return operation.withName(name);
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
    return projects.stream().filter(p -> !p.equals("*")).toList();
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
