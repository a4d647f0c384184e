package io.harborrobot.operator.api.v1alpha1;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The resource/action pairs Harbor accepts for project-level robots (Harbor 2.12+, see
 * shared/harbor/ROBOT_API.md §5). The CRD carries the same table as a CEL map ({@link #CEL_MAP}); a
 * unit test keeps the two identical.
 */
public final class ProjectPermissions {

  /** Allowed actions per project-level resource, in Harbor's own names. */
  public static final Map<String, Set<String>> ALLOWED =
      Map.ofEntries(
          Map.entry("accessory", Set.of("list")),
          Map.entry("artifact", Set.of("read", "create", "list", "delete")),
          Map.entry("artifact-addition", Set.of("read")),
          Map.entry("artifact-label", Set.of("create", "delete")),
          Map.entry("export-cve", Set.of("create", "read")),
          Map.entry("immutable-tag", Set.of("create", "delete", "list", "update")),
          Map.entry("label", Set.of("read", "create", "delete", "list", "update")),
          Map.entry("log", Set.of("list")),
          Map.entry("member", Set.of("create", "read", "update", "list", "delete")),
          Map.entry("metadata", Set.of("read", "create", "delete", "list", "update")),
          Map.entry("notification-policy", Set.of("read", "create", "delete", "list", "update")),
          Map.entry("preheat-policy", Set.of("read", "create", "delete", "list", "update")),
          Map.entry("project", Set.of("read", "delete", "update")),
          Map.entry("quota", Set.of("read")),
          Map.entry("repository", Set.of("read", "update", "delete", "list", "pull", "push")),
          Map.entry("robot", Set.of("create", "read", "list", "delete")),
          Map.entry("sbom", Set.of("create", "stop", "read")),
          Map.entry("scan", Set.of("create", "read", "stop")),
          Map.entry("scanner", Set.of("create", "read")),
          Map.entry("tag", Set.of("create", "list", "delete")),
          Map.entry("tag-retention", Set.of("read", "create", "delete", "list", "update")));

  /** The same table as a CEL map literal, for the CRD's item rule on permissions. */
  public static final String CEL_MAP =
      "{'accessory': ['list'],"
          + " 'artifact': ['read', 'create', 'list', 'delete'],"
          + " 'artifact-addition': ['read'],"
          + " 'artifact-label': ['create', 'delete'],"
          + " 'export-cve': ['create', 'read'],"
          + " 'immutable-tag': ['create', 'delete', 'list', 'update'],"
          + " 'label': ['read', 'create', 'delete', 'list', 'update'],"
          + " 'log': ['list'],"
          + " 'member': ['create', 'read', 'update', 'list', 'delete'],"
          + " 'metadata': ['read', 'create', 'delete', 'list', 'update'],"
          + " 'notification-policy': ['read', 'create', 'delete', 'list', 'update'],"
          + " 'preheat-policy': ['read', 'create', 'delete', 'list', 'update'],"
          + " 'project': ['read', 'delete', 'update'],"
          + " 'quota': ['read'],"
          + " 'repository': ['read', 'update', 'delete', 'list', 'pull', 'push'],"
          + " 'robot': ['create', 'read', 'list', 'delete'],"
          + " 'sbom': ['create', 'stop', 'read'],"
          + " 'scan': ['create', 'read', 'stop'],"
          + " 'scanner': ['create', 'read'],"
          + " 'tag': ['create', 'list', 'delete'],"
          + " 'tag-retention': ['read', 'create', 'delete', 'list', 'update']}";

  /** Item rule: every action of an entry must be allowed for its resource. */
  static final String PAIR_RULE =
      "self.resource in "
          + CEL_MAP
          + " && self.actions.all(a, a in "
          + CEL_MAP
          + "[self.resource])";

  static final String PAIR_MESSAGE_EXPRESSION =
      "self.resource in "
          + CEL_MAP
          + " ? 'actions allowed for ' + self.resource + ' are: ' + "
          + CEL_MAP
          + "[self.resource].join(', ')"
          + " : 'unknown resource ' + self.resource";

  private ProjectPermissions() {}

  /** Returns the pairs of {@code permissions} that Harbor would refuse, as "resource:action". */
  public static List<String> disallowedPairs(List<Permission> permissions) {
    return permissions.stream()
        .flatMap(
            p ->
                p.getActions().stream()
                    .filter(a -> !ALLOWED.getOrDefault(p.getResource(), Set.of()).contains(a))
                    .map(a -> p.getResource() + ":" + a))
        .distinct()
        .sorted()
        .toList();
  }

  /** Merges entries into resource → sorted actions, the form the operator compares and sends. */
  public static Map<String, Set<String>> normalize(List<Permission> permissions) {
    Map<String, Set<String>> merged = new TreeMap<>();
    for (Permission p : permissions) {
      merged
          .computeIfAbsent(p.getResource(), r -> new java.util.TreeSet<>())
          .addAll(p.getActions());
    }
    return merged.entrySet().stream()
        .collect(
            Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, TreeMap::new));
  }
}
