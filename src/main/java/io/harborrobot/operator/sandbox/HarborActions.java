package io.harborrobot.operator.sandbox;

import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.config.Durations;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * What a person can do to the emulated Harbor while the sandbox runs, as they would in Harbor's UI,
 * to watch the operator heal what they broke. One command per line.
 */
final class HarborActions {

  static final String HELP =
      """
      Harbor actions (type one per line; the operator is not told, it finds out):
        refresh <namespace>/<name>   refresh the robot's secret in Harbor (the Secret stops working)
        delete <namespace>/<name>    delete the robot in Harbor
        disable <namespace>/<name>   disable the robot in Harbor
        prefix <prefix>              change Harbor's robot name prefix (default robot$)
        outage <duration>            Harbor answers 503 to everything for a while, e.g. outage 30s
        readonly on|off              Harbor's read-only mode
        status                       print the tables now
        help                         this list
        quit                         stop the sandbox""";

  private final Sandbox sandbox;
  private final Consumer<String> log;
  private final Runnable showTables;
  private final ScheduledExecutorService timer;
  private final Duration noticeWithin;
  private ScheduledFuture<?> outageEnd;
  private long outages;

  /**
   * @param noticeWithin how soon the operator looks again (its resync and credential check
   *     periods), for the messages
   */
  HarborActions(
      Sandbox sandbox,
      Consumer<String> log,
      Runnable showTables,
      ScheduledExecutorService timer,
      Duration noticeWithin) {
    this.sandbox = sandbox;
    this.log = log;
    this.showTables = showTables;
    this.timer = timer;
    this.noticeWithin = noticeWithin;
  }

  /** Carries out one command line; returns {@code false} for {@code quit}. */
  boolean handle(String line) {
    List<String> words = List.of(line.trim().split("\\s+"));
    String command = words.get(0).toLowerCase(Locale.ROOT);
    String argument = words.size() > 1 ? words.get(1) : "";
    try {
      switch (command) {
        case "" -> {}
        case "quit", "exit" -> {
          return false;
        }
        case "help", "?" -> log.accept(HELP);
        case "status" -> showTables.run();
        case "refresh" -> {
          EmulatedRobot robot = robotOf(argument);
          sandbox.harbor().refreshSecretByHand(robot.id());
          log.accept(
              "harbor: refreshed the secret of "
                  + robot.fullName()
                  + " by hand; the operator finds out at its next credential check (within "
                  + seconds(noticeWithin)
                  + ")");
        }
        case "delete" -> {
          EmulatedRobot robot = robotOf(argument);
          sandbox.harbor().deleteRobotByHand(robot.id());
          log.accept(
              "harbor: deleted "
                  + robot.fullName()
                  + " by hand; the operator recreates it at its next resync (within "
                  + seconds(noticeWithin)
                  + ")");
        }
        case "disable" -> {
          EmulatedRobot robot = robotOf(argument);
          sandbox.harbor().setDisabledByHand(robot.id(), true);
          log.accept(
              "harbor: disabled "
                  + robot.fullName()
                  + " by hand; the operator enables it again at its next resync (within "
                  + seconds(noticeWithin)
                  + ")");
        }
        case "prefix" -> {
          if (argument.isEmpty()) {
            throw new IllegalArgumentException("usage: prefix <prefix>, e.g. prefix bot_");
          }
          sandbox.harbor().setRobotNamePrefix(argument);
          log.accept(
              "harbor: robot name prefix is now "
                  + argument
                  + "; every robot's login changed, the operator updates the Secrets");
        }
        case "outage" -> outage(argument);
        case "readonly" -> {
          boolean on = argument.equalsIgnoreCase("on");
          if (!on && !argument.equalsIgnoreCase("off")) {
            throw new IllegalArgumentException("usage: readonly on|off");
          }
          sandbox.harbor().setReadOnly(on);
          log.accept("harbor: read-only mode " + (on ? "on" : "off"));
        }
        default ->
            throw new IllegalArgumentException(
                "unknown command '" + command + "'; type help for the list");
      }
    } catch (RuntimeException e) {
      // a typo, a robot that is gone, an API server that refused: say it, keep the session
      log.accept(e.getMessage());
    }
    return true;
  }

  private void outage(String argument) {
    Duration length;
    try {
      length = Durations.parse(argument.isEmpty() ? "30s" : argument);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("usage: outage <duration>, e.g. outage 30s");
    }
    synchronized (this) {
      if (outageEnd != null) {
        outageEnd.cancel(false);
      }
      sandbox.harbor().setErrorRate(1.0, 503);
      long generation = ++outages;
      outageEnd =
          timer.schedule(() -> endOutage(generation), length.toMillis(), TimeUnit.MILLISECONDS);
    }
    log.accept("harbor: answering 503 to every request for " + seconds(length));
  }

  /** Ends the outage, unless a newer one replaced it meanwhile. */
  private synchronized void endOutage(long generation) {
    if (generation != outages) {
      return;
    }
    sandbox.harbor().setErrorRate(0.0, 503);
    outageEnd = null;
    log.accept("harbor: the outage is over");
  }

  /** The robot in Harbor that a HarborRobot manages. */
  private EmulatedRobot robotOf(String namespacedName) {
    String[] parts = namespacedName.split("/", 2);
    if (parts.length != 2) {
      throw new IllegalArgumentException("name the HarborRobot as <namespace>/<name>");
    }
    HarborRobot robot =
        sandbox
            .client()
            .resources(HarborRobot.class)
            .inNamespace(parts[0])
            .withName(parts[1])
            .get();
    if (robot == null) {
      throw new IllegalArgumentException("no HarborRobot " + namespacedName);
    }
    if (robot.getStatus() == null || robot.getStatus().getRobotId() == null) {
      throw new IllegalArgumentException(
          "HarborRobot " + namespacedName + " has no robot in Harbor yet");
    }
    long id = robot.getStatus().getRobotId();
    return sandbox
        .harbor()
        .robot(id)
        .orElseThrow(
            () -> new IllegalArgumentException("robot " + id + " is not in Harbor (any more)"));
  }

  private static String seconds(Duration duration) {
    return duration.toSeconds() + "s";
  }
}
