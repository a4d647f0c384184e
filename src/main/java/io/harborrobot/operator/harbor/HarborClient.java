package io.harborrobot.operator.harbor;

import java.util.List;
import java.util.Optional;

/**
 * The Harbor robot API as the operator needs it (shared/harbor/ROBOT_API.md). Every method throws
 * {@link HarborException} on failure; "not found" is an empty Optional or {@code false} where the
 * caller expects it. Implementations are thread-safe.
 */
public interface HarborClient {

  /**
   * GET /api/v2.0/systeminfo (authenticated, so version and registry URL are included). Harbor
   * answers this route to anonymous callers too, and takes credentials it refuses as anonymous (200
   * without the version, not 401): that answer is {@link HarborException.Kind#UNAUTHORIZED}.
   */
  SystemInfo systemInfo();

  /** GET /api/v2.0/projects/{name}; empty on 404. */
  Optional<Project> findProject(String projectName);

  /**
   * Finds a project robot by its short name (without prefix or project) through GET
   * /api/v2.0/robots?q=Level=project,ProjectID=..,name=~.., following pagination, and matching the
   * full name returned by Harbor exactly (whatever the instance's prefix is).
   */
  Optional<Robot> findProjectRobot(Project project, String robotName);

  /**
   * Finds a system robot by its name (without prefix) through GET {@code
   * /robots?q=Level=system,name=<name>}: an exact match on the stored name, one request.
   */
  Optional<Robot> findSystemRobot(String robotName);

  /** GET /api/v2.0/robots/{id}; empty on 404. */
  Optional<Robot> getRobot(long id);

  /**
   * The project robot {@code id} of the project named {@code projectName}; empty when it is gone.
   * The same as {@link #getRobot} here; {@link ListingHarborClient} answers it from a recent
   * listing of the project, so that looking at every robot of a project costs one paginated list.
   */
  default Optional<Robot> getProjectRobot(String projectName, long id) {
    return getRobot(id);
  }

  /**
   * Every robot of {@code project}: GET /api/v2.0/robots?q=Level=project,ProjectID=.., all pages of
   * 100.
   */
  List<Robot> listProjectRobots(Project project);

  /**
   * POST /api/v2.0/robots. Never retried: when the request was sent but no answer came back, this
   * throws {@link HarborException.Kind#OUTCOME_UNKNOWN} and the caller must look the robot up.
   */
  RobotCreated createRobot(RobotCreate robot);

  /** PUT /api/v2.0/robots/{id} with the full robot (name as Harbor returns it). */
  void updateRobot(Robot robot);

  /** PATCH /api/v2.0/robots/{id} with a caller-chosen secret (Harbor's complexity rule applies). */
  void setRobotSecret(long robotId, RobotSecret secret);

  /**
   * DELETE /api/v2.0/robots/{id}; {@code false} when the robot was already gone (404), which is
   * also the answer when a repetition (after a lost response) finds it deleted by the first try.
   */
  boolean deleteRobot(long robotId);

  /**
   * Whether {@code username}/{@code secret} log in to Harbor's registry the way {@code docker
   * login} does: GET /v2/ with Basic auth answers 200, not 401. Note that Harbor locks a username
   * for 1.5 s after a failed login.
   */
  boolean registryLoginSucceeds(String username, RobotSecret secret);
}
