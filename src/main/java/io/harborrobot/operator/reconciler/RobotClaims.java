package io.harborrobot.operator.reconciler;

import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import java.net.URI;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Settles which HarborRobot manages a Harbor robot that several of them name (same Harbor, project
 * and robot name, in any namespaces): the oldest, by creation time and then namespace/name, so the
 * answer is the same whichever of them asks and survives restarts. The others get RobotConflict and
 * never touch the robot.
 */
final class RobotClaims {

  /** Primary-cache index: HarborRobots by project and robot name. */
  static final String INDEX = "harbor-robot";

  private static final Comparator<HarborRobot> FIRST_CLAIM_FIRST =
      Comparator.comparing((HarborRobot r) -> !manages(r))
          .thenComparing(RobotClaims::createdAt)
          .thenComparing(r -> r.getMetadata().getNamespace())
          .thenComparing(r -> r.getMetadata().getName());

  private RobotClaims() {}

  /** The index keys of a HarborRobot: its project and robot name, when the spec names them. */
  static List<String> indexKeys(HarborRobot robot) {
    if (robot.getSpec() == null) {
      return List.of();
    }
    if (robot.getSpec().isSystemLevel()) {
      // System robots share one name space, apart from any project's.
      return List.of("+system/" + robot.effectiveRobotName());
    }
    if (robot.getSpec().getProject() == null) {
      return List.of();
    }
    return List.of(robot.getSpec().getProject() + "/" + robot.effectiveRobotName());
  }

  /**
   * The other HarborRobot with the same project and robot name on the same Harbor that ranks before
   * {@code robot}, if any. {@code harborOf} gives the URL of a HarborRobot's connection; one whose
   * connection cannot be resolved (deleted, say) still holds a robot it manages, but claims none it
   * does not.
   */
  static Optional<HarborRobot> rankedBefore(
      HarborRobot robot,
      Function<String, Collection<HarborRobot>> byIndexKey,
      Function<HarborRobot, Optional<String>> harborOf) {
    List<String> keys = indexKeys(robot);
    if (keys.isEmpty()) {
      return Optional.empty();
    }
    Collection<HarborRobot> sameName = byIndexKey.apply(keys.get(0));
    Optional<String> harbor = harborOf.apply(robot).map(RobotClaims::normalize);
    if (harbor.isEmpty()) {
      return Optional.empty();
    }
    return sameName.stream()
        .filter(other -> !isSame(other, robot))
        .filter(RobotClaims::claims)
        .filter(other -> sameHarbor(harborOf.apply(other), harbor.get(), manages(other)))
        .filter(other -> FIRST_CLAIM_FIRST.compare(other, robot) < 0)
        .min(FIRST_CLAIM_FIRST);
  }

  private static boolean sameHarbor(Optional<String> other, String harbor, boolean manages) {
    return other.map(url -> normalize(url).equals(harbor)).orElse(manages);
  }

  /**
   * Reasons that keep a HarborRobot from ever creating its robot until someone changes something:
   * one stuck there holds no claim, so a resource that is not allowed (or cannot authenticate)
   * cannot squat a robot name for others.
   */
  private static final Set<String> STUCK =
      Set.of(
          Reasons.NOT_ALLOWED,
          Reasons.INVALID_SPEC,
          Reasons.CONNECTION_NOT_FOUND,
          Reasons.INVALID_CONNECTION,
          Reasons.UNAUTHORIZED,
          Reasons.FORBIDDEN,
          Reasons.PROJECT_NOT_FOUND,
          Reasons.SECRET_CONFLICT,
          Reasons.ROBOT_CONFLICT);

  /** Whether a HarborRobot holds a claim: it manages the robot, or may still come to. */
  private static boolean claims(HarborRobot robot) {
    if (manages(robot)) {
      return true;
    }
    return robot.getStatus() == null
        || Conditions.find(robot.getStatus().getConditions(), Conditions.READY)
            .map(c -> !STUCK.contains(c.getReason()))
            .orElse(true);
  }

  /** Whether a HarborRobot's status says it manages a robot. */
  private static boolean manages(HarborRobot robot) {
    return robot.getStatus() != null && robot.getStatus().getRobotId() != null;
  }

  private static boolean isSame(HarborRobot a, HarborRobot b) {
    return a.getMetadata().getNamespace().equals(b.getMetadata().getNamespace())
        && a.getMetadata().getName().equals(b.getMetadata().getName());
  }

  private static Instant createdAt(HarborRobot robot) {
    String timestamp = robot.getMetadata().getCreationTimestamp();
    try {
      return timestamp == null ? Instant.MAX : Instant.parse(timestamp);
    } catch (DateTimeParseException e) {
      return Instant.MAX;
    }
  }

  /** Scheme, host and port in lower case, no trailing slash: one Harbor, however it is spelt. */
  static String normalize(String url) {
    try {
      URI uri = URI.create(url.trim());
      String path = uri.getPath() == null ? "" : uri.getPath().replaceAll("/+$", "");
      int port = uri.getPort();
      if (port == -1) {
        port = "http".equalsIgnoreCase(uri.getScheme()) ? 80 : 443;
      }
      return (uri.getScheme() + "://" + uri.getHost() + ":" + port).toLowerCase(Locale.ROOT) + path;
    } catch (IllegalArgumentException e) {
      return url.trim().toLowerCase(Locale.ROOT);
    }
  }
}
