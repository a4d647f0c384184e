package io.harborrobot.operator.leaks;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Everything one test class let out, as text: each log event (as a logback appender) and each
 * snapshot a harness handed over ({@link LeakWitness}), with where it came from. Events are turned
 * into text as they arrive, so that no logged object is kept alive or read after it changed.
 */
final class LeakCapture extends AppenderBase<ILoggingEvent> {

  /** One piece of text; {@code where} is built only for a report. */
  record Entry(String source, String phase, String text) {
    String where() {
      return source + " (during " + phase + ")";
    }
  }

  // guarded by this: AppenderBase.doAppend is synchronized too
  private final List<Entry> entries = new ArrayList<>();
  private final Set<String> extraSecrets = ConcurrentHashMap.newKeySet();
  private final List<String> problems = new CopyOnWriteArrayList<>();
  private volatile String phase = "@BeforeAll";

  LeakCapture(String testClass) {
    setName("secret-leaks-" + testClass);
  }

  @Override
  protected void append(ILoggingEvent event) {
    entries.add(
        new Entry(
            "log "
                + event.getLevel()
                + " "
                + event.getLoggerName()
                + " ["
                + event.getThreadName()
                + "]",
            phase,
            text(event)));
  }

  synchronized void add(String source, String text) {
    entries.add(new Entry(source, phase, text));
  }

  synchronized List<Entry> entries() {
    return List.copyOf(entries);
  }

  /** A secret found outside the emulator, e.g. a password the operator generated. */
  void addSecret(String secret) {
    extraSecrets.add(secret);
  }

  Set<String> extraSecrets() {
    return Set.copyOf(extraSecrets);
  }

  /** Something that kept part of the check from running. */
  void problem(String problem) {
    problems.add(problem + " (during " + phase + ")");
  }

  List<String> problems() {
    return List.copyOf(problems);
  }

  /** Which test (or which part of the class's lifecycle) is running. */
  void phase(String phase) {
    this.phase = phase;
  }

  /**
   * All an appender could print: message, MDC, key-value pairs, markers and the whole throwable.
   */
  static String text(ILoggingEvent event) {
    StringBuilder sb = new StringBuilder(String.valueOf(event.getFormattedMessage()));
    Map<String, String> mdc = event.getMDCPropertyMap();
    if (mdc != null && !mdc.isEmpty()) {
      sb.append(" MDC=").append(mdc);
    }
    if (event.getKeyValuePairs() != null && !event.getKeyValuePairs().isEmpty()) {
      sb.append(" KV=").append(event.getKeyValuePairs());
    }
    if (event.getMarkerList() != null && !event.getMarkerList().isEmpty()) {
      sb.append(" MARKERS=").append(event.getMarkerList());
    }
    IThrowableProxy throwable = event.getThrowableProxy();
    if (throwable != null) {
      // class names, messages, causes, suppressed and frames, as the console would show them
      sb.append('\n').append(ThrowableProxyUtil.asString(throwable));
    }
    return sb.toString();
  }
}
