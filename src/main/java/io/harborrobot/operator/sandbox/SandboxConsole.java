package io.harborrobot.operator.sandbox;

import io.fabric8.kubernetes.api.model.Event;
import java.io.PrintStream;
import java.time.Clock;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What a person watching the sandbox sees: timestamped lines for what happens (manifests applied or
 * rejected, Events as they are recorded, Harbor actions), and the tables of HarborRobots and
 * Secrets whenever they change. Secret values never appear: the tables mask them.
 */
final class SandboxConsole {

  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");

  private final Sandbox sandbox;
  private final PrintStream out;
  private final Clock clock;
  private final Set<String> eventsShown = new HashSet<>();
  private String lastTables = "";

  SandboxConsole(Sandbox sandbox, PrintStream out, Clock clock) {
    this.sandbox = sandbox;
    this.out = out;
    this.clock = clock;
  }

  /** A line of what happened, with the time. */
  synchronized void line(String text) {
    out.println(
        "[" + LocalTime.now(clock.withZone(ZoneId.systemDefault())).format(TIME) + "] " + text);
    out.flush();
  }

  /** Prints the Events recorded since the last call, then the tables if they changed. */
  synchronized void refresh() {
    newEvents().forEach(this::show);
    String tables = sandbox.tables();
    if (!tables.equals(lastTables)) {
      out.println();
      out.print(tables);
      out.println();
      out.flush();
      lastTables = tables;
    }
  }

  /** Prints the tables whether or not they changed. */
  synchronized void tables() {
    lastTables = "";
    refresh();
  }

  private List<Event> newEvents() {
    return sandbox.events().stream()
        .filter(
            e ->
                eventsShown.add(
                    Objects.toString(e.getMetadata().getUid(), e.getMetadata().getName())))
        .sorted(Comparator.comparing(e -> Objects.toString(e.getLastTimestamp(), "")))
        .toList();
  }

  private void show(Event event) {
    String namespace = event.getInvolvedObject().getNamespace();
    line(
        String.format(
            "%-7s %-20s %s %s: %s",
            event.getType(),
            event.getReason(),
            event.getInvolvedObject().getKind().toLowerCase(),
            (namespace == null || namespace.isEmpty() ? "" : namespace + "/")
                + event.getInvolvedObject().getName(),
            event.getMessage()));
  }
}
