package io.harborrobot.operator.api.v1alpha1;

import java.util.List;

/** Shorthands for the permission sets people ask for most. */
public enum Preset {
  /** Pull images: repository:pull. */
  Pull(List.of(new Permission("repository", List.of("pull")))),
  /** Push and pull images: repository:pull,push. */
  Push(List.of(new Permission("repository", List.of("pull", "push")))),
  /** A CI pipeline: repository:pull,push,list; artifact:list,read; tag:list. */
  CI(
      List.of(
          new Permission("repository", List.of("pull", "push", "list")),
          new Permission("artifact", List.of("list", "read")),
          new Permission("tag", List.of("list"))));

  private final List<Permission> permissions;

  Preset(List<Permission> permissions) {
    this.permissions = permissions;
  }

  public List<Permission> permissions() {
    return permissions.stream().map(p -> new Permission(p.getResource(), p.getActions())).toList();
  }
}
