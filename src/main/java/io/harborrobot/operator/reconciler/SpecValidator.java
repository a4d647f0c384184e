package io.harborrobot.operator.reconciler;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.HarborRobotSpec;
import io.harborrobot.operator.api.v1alpha1.Permission;
import io.harborrobot.operator.api.v1alpha1.Preset;
import io.harborrobot.operator.api.v1alpha1.ProjectGrant;
import io.harborrobot.operator.api.v1alpha1.ProjectPermissions;
import io.harborrobot.operator.api.v1alpha1.SecretType;
import io.harborrobot.operator.validation.CelRule;
import io.harborrobot.operator.validation.ManifestValidator;
import io.harborrobot.operator.validation.Violation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The CRD's rules, checked again by the operator. An API server enforces them on apply, but a CRD
 * installed without its rules, an older CRD, or the sandbox's in-memory API server does not; the
 * operator must then refuse the spec with a clear message instead of sending Harbor a request it
 * will reject.
 */
public final class SpecValidator {

  private static final String NAME = HarborRobotSpec.HARBOR_NAME_PATTERN;

  private SpecValidator() {}

  /**
   * Builds the CRD rule checker and runs it once on a valid robot, so that the first HarborRobot
   * reconciled does not wait for it: compiling the CEL rules takes most of a second on a JVM that
   * just started. Returns the problems found, which must be none.
   */
  public static List<String> warmUp() {
    HarborRobot sample = new HarborRobot();
    sample.getMetadata().setName("warm-up");
    sample.getMetadata().setNamespace("warm-up");
    HarborRobotSpec spec = new HarborRobotSpec();
    spec.setProject("warm-up");
    spec.setPreset(Preset.Pull);
    sample.setSpec(spec);
    return problems(sample);
  }

  /** Every problem with the spec, as sentences; empty when it is valid. */
  public static List<String> problems(HarborRobot robot) {
    if (!robot.readProblems().isEmpty()) {
      // The fields that did not fit were set aside: checking what is left would only add
      // problems that follow from those.
      return robot.readProblems();
    }
    HarborRobotSpec spec = robot.getSpec();
    List<String> problems = new ArrayList<>();
    if (spec == null) {
      return List.of("spec is required");
    }
    if (spec.getConnectionRef() != null && blank(spec.getConnectionRef().getName())) {
      // Without a connectionRef the default ClusterHarborConnection is used; with one, a name.
      problems.add("spec.connectionRef.name is required when spec.connectionRef is set");
    }
    if (spec.isSystemLevel()) {
      checkSystemLevel(spec, problems);
    } else if (blank(spec.getProject())) {
      problems.add("spec.project is required");
    } else if (!spec.getProject().matches(NAME)) {
      problems.add("spec.project is not a valid Harbor project name");
    }
    String robotName = robot.effectiveRobotName();
    if (robotName == null || !robotName.matches(NAME)) {
      problems.add(
          "robot name '"
              + robotName
              + "' is not valid in Harbor (lower-case letters and digits separated by single"
              + " '.', '_' or '-'): set spec.robotName");
    } else if (spec.getProject() != null
        && spec.getProject().length() + robotName.length() >= 255) {
      problems.add("project and robot name together must be shorter than 255 characters");
    }
    boolean hasPermissions = spec.getPermissions() != null;
    if (!spec.isSystemLevel() && (spec.getPreset() != null) == hasPermissions) {
      problems.add("set exactly one of preset or permissions");
    }
    if (!spec.isSystemLevel() && hasPermissions) {
      checkPermissions(spec.getPermissions(), problems);
    }
    if (spec.getImagePullServiceAccounts() != null
        && !spec.getImagePullServiceAccounts().isEmpty()
        && spec.getSecret() != null
        && spec.getSecret().getType() != null
        && spec.getSecret().getType() != SecretType.DockerConfigJson) {
      problems.add(
          "imagePullServiceAccounts needs secret.type DockerConfigJson: the kubelet ignores other"
              + " Secrets as pull secrets");
    }
    Integer days = spec.getDurationDays();
    if (days != null && days != -1 && (days < 1 || days > 3650)) {
      problems.add("durationDays must be -1 (never expires) or between 1 and 3650");
    }
    if (problems.isEmpty()) {
      // Every other rule of the CRD (lengths, ranges, list sizes, rotation), in the API server's
      // words: the checks above come first only because their messages say more.
      problems.addAll(crdViolations(robot));
    }
    return problems;
  }

  /** What an API server enforcing the packaged CRD would refuse in {@code robot} on create. */
  static List<String> crdViolations(HarborRobot robot) {
    Map<String, Object> manifest = withoutNulls(MANIFEST.convertValue(robot, MAP));
    // The status is the operator's, and an API server takes it apart from the spec.
    manifest.remove("status");
    ManifestValidator.Review review = CrdRules.VALIDATOR.review(manifest, null);
    // Not the API server's "some rules were not checked" line: the rules it skips are the
    // operator's own checks above.
    return java.util.stream.Stream.concat(
            review.schemaViolations().stream(),
            review.ruleFailures().stream().map(CelRule.Failure::violation))
        .map(Violation::toString)
        .toList();
  }

  /**
   * Drops null values, as an API server drops nulls for fields that are not nullable before
   * validating: the model writes every unset field as null.
   */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> withoutNulls(Map<String, Object> map) {
    Map<String, Object> copy = new java.util.LinkedHashMap<>();
    map.forEach(
        (key, value) -> {
          if (value instanceof Map<?, ?> nested) {
            copy.put(key, withoutNulls((Map<String, Object>) nested));
          } else if (value instanceof List<?> list) {
            copy.put(
                key,
                list.stream()
                    .map(v -> v instanceof Map<?, ?> m ? withoutNulls((Map<String, Object>) m) : v)
                    .toList());
          } else if (value != null) {
            copy.put(key, value);
          }
        });
    return copy;
  }

  private static final ObjectMapper MANIFEST =
      Serialization.jsonMapper().copy().enable(DeserializationFeature.USE_LONG_FOR_INTS);

  private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};

  /** Loaded on first use: compiling the CRDs' CEL rules takes a moment. */
  private static final class CrdRules {
    static final ManifestValidator VALIDATOR = ManifestValidator.forPackagedCrds();
  }

  private static void checkSystemLevel(HarborRobotSpec spec, List<String> problems) {
    if (!blank(spec.getProject())) {
      problems.add("spec.project is for level Project; level System uses spec.projects");
    }
    if (spec.getPreset() != null || spec.getPermissions() != null) {
      problems.add("level System sets preset or permissions in each entry of spec.projects");
    }
    if (spec.getProjects() == null || spec.getProjects().isEmpty()) {
      problems.add("level System needs spec.projects");
      return;
    }
    Set<String> seen = new java.util.HashSet<>();
    for (ProjectGrant grant : spec.getProjects()) {
      String name = grant == null ? null : grant.getName();
      if (name == null || !(name.equals("*") || name.matches(NAME))) {
        problems.add("spec.projects: '" + name + "' is not a Harbor project name or \"*\"");
        continue;
      }
      if (!seen.add(name)) {
        problems.add("each project may appear only once in projects");
      }
      if ((grant.getPreset() != null) == (grant.getPermissions() != null)) {
        problems.add("spec.projects " + name + ": set exactly one of preset or permissions");
      } else if (grant.getPermissions() != null) {
        checkPermissions(grant.getPermissions(), problems);
      }
    }
  }

  private static void checkPermissions(List<Permission> permissions, List<String> problems) {
    if (permissions.isEmpty()) {
      problems.add("permissions must not be empty");
      return;
    }
    for (Permission p : permissions) {
      if (p == null
          || blank(p.getResource())
          || p.getActions() == null
          || p.getActions().isEmpty()) {
        problems.add("every permission needs a resource and at least one action");
        return;
      }
    }
    List<String> refused = ProjectPermissions.disallowedPairs(permissions);
    if (!refused.isEmpty()) {
      problems.add(
          "Harbor does not allow these project permissions: " + String.join(", ", refused));
    }
    Map<String, Set<String>> merged = ProjectPermissions.normalize(permissions);
    Set<String> repository = merged.getOrDefault("repository", Set.of());
    if (repository.contains("push") && !repository.contains("pull")) {
      problems.add("repository push requires repository pull: add pull to the repository actions");
    }
    if (merged.size() != permissions.size()) {
      problems.add("each resource may appear only once in permissions");
    }
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
