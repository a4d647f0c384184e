package io.harborrobot.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

/** Desired state of a Harbor project robot account and of the Secret holding its credentials. */
@com.fasterxml.jackson.annotation.JsonClassDescription(
    "Desired state of the robot in Harbor and of the Secret holding its credentials.")
@ValidationRule(
    value =
        "has(self.level) && self.level == 'System' ? !has(self.preset) && !has(self.permissions)"
            + " : has(self.preset) != has(self.permissions)",
    message =
        "set exactly one of preset or permissions (for level System, set them in each entry of"
            + " projects)")
@ValidationRule(
    value =
        "has(self.level) && self.level == 'System' ? !has(self.project) && has(self.projects) :"
            + " has(self.project) && !has(self.projects)",
    message =
        "level Project needs project (not projects); level System needs projects (not project)")
@ValidationRule(
    value =
        "!has(self.projects) || self.projects.all(p, self.projects.exists_one(q, q.name =="
            + " p.name))",
    message = "each project may appear only once in projects")
@ValidationRule(
    value =
        "!has(self.imagePullServiceAccounts) || size(self.imagePullServiceAccounts) == 0 ||"
            + " !has(self.secret) || !has(self.secret.type) || self.secret.type =="
            + " 'DockerConfigJson'",
    message =
        "imagePullServiceAccounts needs secret.type DockerConfigJson: the kubelet ignores other"
            + " Secrets as pull secrets")
@ValidationRule(
    value =
        "!has(self.permissions) || !self.permissions.exists(p, p.resource == 'repository' &&"
            + " 'push' in p.actions) || self.permissions.exists(p, p.resource == 'repository' &&"
            + " 'pull' in p.actions)",
    message = "repository push requires repository pull: add pull to the repository actions")
@ValidationRule(
    value =
        "!has(self.permissions) || self.permissions.all(p, self.permissions.exists_one(q,"
            + " q.resource == p.resource))",
    message = "each resource may appear only once in permissions")
@ValidationRule(
    value =
        "!has(self.rotation) || !has(self.rotation.renewBeforeDays) || !has(self.durationDays)"
            + " || self.durationDays == -1 || self.rotation.renewBeforeDays < self.durationDays",
    message = "rotation.renewBeforeDays must be less than durationDays")
public class HarborRobotSpec {

  /** Harbor's rule for robot and project names (robot.go validateName). */
  public static final String HARBOR_NAME_PATTERN = "^[a-z0-9]+(?:[._-][a-z0-9]+)*$";

  @JsonPropertyDescription(
      "The Harbor instance and admin credentials to use: a HarborConnection in this namespace or"
          + " a ClusterHarborConnection that allows it. Default: the ClusterHarborConnection"
          + " annotated harborrobot.io/default-connection: \"true\".")
  private ConnectionRef connectionRef;

  @Size(min = 1, max = 255)
  @Pattern(HARBOR_NAME_PATTERN)
  @JsonPropertyDescription(
      "Robot name in Harbor, without prefix or project (Harbor builds the login name"
          + " robot$<project>+<robotName>). Lower-case letters and digits separated by single"
          + " '.', '_' or '-'. Defaults to metadata.name. Immutable.")
  private String robotName;

  @Default("Project")
  @ValidationRule(value = "self == oldSelf", message = "level is immutable")
  @JsonPropertyDescription(
      "Project (default): a robot of one project, spec.project. System: a robot with permissions"
          + " in several projects, spec.projects; its connection must allow system level for"
          + " every one of them. Immutable.")
  private RobotLevel level = RobotLevel.Project;

  @Size(min = 1, max = 255)
  @Pattern(HARBOR_NAME_PATTERN)
  @ValidationRule(value = "self == oldSelf", message = "project is immutable")
  @JsonPropertyDescription(
      "Harbor project the robot belongs to (level Project only). It must exist. Immutable.")
  private String project;

  @Size(min = 1, max = 64)
  @JsonPropertyDescription(
      "Level System only: the projects the robot may work in, each with a preset or"
          + " permissions; name \"*\" means every project, current and future.")
  private List<ProjectGrant> projects;

  @JsonPropertyDescription(
      "Shorthand for a permission set, exclusive with permissions. Pull: repository:pull."
          + " Push: repository:pull,push. CI: repository:pull,push,list; artifact:list,read;"
          + " tag:list.")
  private Preset preset;

  @Size(min = 1, max = 32)
  @JsonPropertyDescription(
      "Permissions in Harbor's own resource/action names, exclusive with preset. Push requires"
          + " pull.")
  private List<Permission> permissions;

  @Size(max = 947)
  @JsonPropertyDescription(
      "Description shown in Harbor, followed there by the operator's marker \"(managed by"
          + " harbor-robot-operator; uid <this resource's uid>)\". At most 947 characters: Harbor"
          + " keeps 1024, the marker takes 77.")
  private String description;

  @Default("-1")
  @Min(-1)
  @Max(3650)
  @ValidationRule(
      value = "self == -1 || self >= 1",
      message = "durationDays must be -1 (never expires) or between 1 and 3650")
  @JsonPropertyDescription(
      "Lifetime in days, counted by Harbor from the robot's creation time: -1 (never expires,"
          + " the default) or 1..3650.")
  private Integer durationDays = -1;

  @Default("false")
  @JsonPropertyDescription(
      "Disable the robot in Harbor: its credentials are refused until it is enabled again.")
  private Boolean disabled = false;

  @JsonPropertyDescription("The Kubernetes Secret that receives the robot's credentials.")
  private SecretSpec secret = new SecretSpec();

  @JsonPropertyDescription(
      "When the secret is replaced: renewBeforeDays (expiring robots) and everyDays.")
  private RotationSpec rotation;

  @Default("false")
  @JsonPropertyDescription(
      "Take over a robot of the same name that exists in Harbor but was not created by this"
          + " resource (for example after restoring into a new cluster). Its secret is replaced."
          + " A robot another HarborRobot manages is never taken.")
  private Boolean adoptExisting = false;

  @Size(max = 64)
  @JsonPropertyDescription(
      "ServiceAccounts in this namespace whose imagePullSecrets get the Secret, so their pods pull"
          + " with it. Entries already there are kept; only the entry the operator added is"
          + " removed when the ServiceAccount leaves this list or the HarborRobot is deleted."
          + " ServiceAccounts created later are linked when they appear.")
  private List<
          @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$") String>
      imagePullServiceAccounts = new ArrayList<>();

  @Default("Delete")
  @JsonPropertyDescription(
      "What happens to the robot in Harbor when this resource is deleted: Delete (default) or"
          + " Orphan (keep it).")
  private DeletionPolicy deletionPolicy = DeletionPolicy.Delete;

  public ConnectionRef getConnectionRef() {
    return connectionRef;
  }

  public void setConnectionRef(ConnectionRef connectionRef) {
    this.connectionRef = connectionRef;
  }

  public String getRobotName() {
    return robotName;
  }

  public void setRobotName(String robotName) {
    this.robotName = robotName;
  }

  public RobotLevel getLevel() {
    return level;
  }

  public void setLevel(RobotLevel level) {
    this.level = level;
  }

  /** Whether this is a System-level robot. */
  @com.fasterxml.jackson.annotation.JsonIgnore
  public boolean isSystemLevel() {
    return level == RobotLevel.System;
  }

  public List<ProjectGrant> getProjects() {
    return projects;
  }

  public void setProjects(List<ProjectGrant> projects) {
    this.projects = projects;
  }

  public String getProject() {
    return project;
  }

  public void setProject(String project) {
    this.project = project;
  }

  public Preset getPreset() {
    return preset;
  }

  public void setPreset(Preset preset) {
    this.preset = preset;
  }

  public List<Permission> getPermissions() {
    return permissions;
  }

  public void setPermissions(List<Permission> permissions) {
    this.permissions = permissions;
  }

  public String getDescription() {
    return description;
  }

  public void setDescription(String description) {
    this.description = description;
  }

  public Integer getDurationDays() {
    return durationDays;
  }

  public void setDurationDays(Integer durationDays) {
    this.durationDays = durationDays;
  }

  public Boolean getDisabled() {
    return disabled;
  }

  public void setDisabled(Boolean disabled) {
    this.disabled = disabled;
  }

  public SecretSpec getSecret() {
    return secret;
  }

  public void setSecret(SecretSpec secret) {
    this.secret = secret;
  }

  public RotationSpec getRotation() {
    return rotation;
  }

  public void setRotation(RotationSpec rotation) {
    this.rotation = rotation;
  }

  public Boolean getAdoptExisting() {
    return adoptExisting;
  }

  public void setAdoptExisting(Boolean adoptExisting) {
    this.adoptExisting = adoptExisting;
  }

  public List<String> getImagePullServiceAccounts() {
    return imagePullServiceAccounts;
  }

  public void setImagePullServiceAccounts(List<String> imagePullServiceAccounts) {
    this.imagePullServiceAccounts = imagePullServiceAccounts;
  }

  public DeletionPolicy getDeletionPolicy() {
    return deletionPolicy;
  }

  public void setDeletionPolicy(DeletionPolicy deletionPolicy) {
    this.deletionPolicy = deletionPolicy;
  }
}
