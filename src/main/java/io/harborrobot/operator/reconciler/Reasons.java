package io.harborrobot.operator.reconciler;

/** The CamelCase reasons on the Ready condition and on Events. */
public final class Reasons {
  public static final String SYNCED = "Synced";
  public static final String CREATED = "Created";
  public static final String UPDATED = "Updated";
  public static final String DISABLED = "Disabled";
  public static final String SECRET_SET = "SecretSet";
  public static final String CREDENTIAL_REPAIRED = "CredentialRepaired";
  public static final String RECOVERED = "Recovered";
  public static final String ROTATED = "Rotated";
  public static final String ADOPTED = "Adopted";
  public static final String DELETED = "Deleted";
  public static final String ORPHANED = "Orphaned";
  public static final String DELETING = "Deleting";

  public static final String INVALID_SPEC = "InvalidSpec";
  public static final String CONNECTION_NOT_FOUND = "ConnectionNotFound";
  public static final String INVALID_CONNECTION = "InvalidConnection";
  public static final String NOT_ALLOWED = "NotAllowed";
  public static final String PROJECT_NOT_FOUND = "ProjectNotFound";
  public static final String ROBOT_CONFLICT = "RobotConflict";
  public static final String SECRET_CONFLICT = "SecretConflict";
  public static final String CREDENTIAL_REJECTED = "CredentialRejected";
  public static final String PULL_SECRET_LINK_FAILED = "PullSecretLinkFailed";
  public static final String HARBOR_UNREACHABLE = "HarborUnreachable";
  public static final String HARBOR_ERROR = "HarborError";
  public static final String HARBOR_READ_ONLY = "HarborReadOnly";
  public static final String HARBOR_VERSION_UNSUPPORTED = "HarborVersionUnsupported";
  public static final String RATE_LIMITED = "RateLimited";
  public static final String UNAUTHORIZED = "Unauthorized";
  public static final String FORBIDDEN = "Forbidden";
  public static final String HARBOR_REJECTED = "HarborRejected";
  public static final String KUBERNETES_ERROR = "KubernetesError";

  private Reasons() {}
}
