package io.harborrobot.operator.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ProjectPermissionsTest {

  @Test
  void theCrdsCelTableIsTheJavaTable() {
    Map<String, Set<String>> fromCel = new TreeMap<>();
    Matcher entry =
        Pattern.compile("'([a-z-]+)': \\[([^\\]]*)\\]").matcher(ProjectPermissions.CEL_MAP);
    while (entry.find()) {
      fromCel.put(
          entry.group(1),
          Arrays.stream(entry.group(2).split(","))
              .map(s -> s.trim().replace("'", ""))
              .collect(Collectors.toSet()));
    }
    assertThat(fromCel).isEqualTo(new TreeMap<>(ProjectPermissions.ALLOWED));
  }

  @Test
  void everyPresetUsesOnlyAllowedPairsAndPushComesWithPull() {
    for (Preset preset : Preset.values()) {
      assertThat(ProjectPermissions.disallowedPairs(preset.permissions()))
          .as(preset.name())
          .isEmpty();
      Set<String> repository =
          ProjectPermissions.normalize(preset.permissions()).getOrDefault("repository", Set.of());
      assertThat(!repository.contains("push") || repository.contains("pull"))
          .as(preset.name())
          .isTrue();
    }
  }

  @Test
  void ciPresetIsWhatGitLabsIntegrationNeeds() {
    assertThat(ProjectPermissions.normalize(Preset.CI.permissions()))
        .isEqualTo(
            Map.of(
                "repository", Set.of("pull", "push", "list"),
                "artifact", Set.of("list", "read"),
                "tag", Set.of("list")));
  }

  @Test
  void disallowedPairsNamesEachRefusedPair() {
    List<Permission> permissions =
        List.of(
            new Permission("repository", List.of("pull", "*")),
            new Permission("helm-chart", List.of("read")),
            new Permission("robot", List.of("update")));
    assertThat(ProjectPermissions.disallowedPairs(permissions))
        .containsExactly("helm-chart:read", "repository:*", "robot:update");
  }

  @Test
  void normalizeMergesDuplicatesAndSorts() {
    assertThat(
            ProjectPermissions.normalize(
                List.of(
                    new Permission("repository", List.of("push", "pull")),
                    new Permission("repository", List.of("pull", "list")))))
        .isEqualTo(Map.of("repository", Set.of("list", "pull", "push")));
  }
}
