package io.harborrobot.operator.ops;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

/**
 * Both log formats write one line per event with the namespace/name of the resource being
 * reconciled, which JOSDK puts in the MDC; each runs in a logging context of its own.
 */
class LogFormatTest {

  /**
   * Logs through a fresh context configured for {@code format}; returns what its console appender
   * wrote. The appender's stream is swapped for a buffer rather than System.err being captured, so
   * that other threads logging to stderr in the same JVM cannot add lines.
   */
  private static List<String> log(LogFormat format, Runnable logging) {
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(MDC.getMDCAdapter());
    try {
      format.configure(context);
      Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
      List<ConsoleAppender<ILoggingEvent>> consoles = new ArrayList<>();
      root.iteratorForAppenders()
          .forEachRemaining(
              appender -> {
                if (appender instanceof ConsoleAppender<ILoggingEvent> console) {
                  consoles.add(console);
                }
              });
      assertThat(consoles).as("the format logs to the console").hasSize(1);
      assertThat(consoles.get(0).getTarget()).isEqualTo("System.err");
      consoles.get(0).setOutputStream(captured);
      Logger logger = context.getLogger("io.harborrobot.operator.reconciler.Example");
      MDC.put("resource.namespace", "team-a");
      MDC.put("resource.name", "pull");
      logger.info("Created robot {} in project {}", "robot$team-a+pull", "team-a");
      MDC.clear();
      logger.warn("no resource here\nsecond line of the same event");
      logging.run();
      context.stop();
    } finally {
      MDC.clear();
    }
    return captured.toString(StandardCharsets.UTF_8).lines().toList();
  }

  @Test
  void plainLinesCarryTheResourceAndStayOneLinePerEvent() {
    List<String> lines = log(LogFormat.PLAIN, () -> {});

    assertThat(lines).hasSize(2);
    assertThat(lines.get(0))
        .contains("INFO")
        .contains("[team-a/pull]")
        .endsWith("- Created robot robot$team-a+pull in project team-a");
    assertThat(lines.get(1))
        .contains("WARN")
        .doesNotContain("[/]")
        .endsWith("- no resource here second line of the same event");
  }

  @Test
  void jsonIsOneObjectPerLineWithTheResourceInTheMdc() throws Exception {
    List<String> lines = log(LogFormat.JSON, () -> {});

    assertThat(lines).hasSize(2);
    ObjectMapper json = new ObjectMapper();
    JsonNode first = json.readTree(lines.get(0));
    assertThat(first.path("level").asText()).isEqualTo("INFO");
    assertThat(first.path("loggerName").asText())
        .isEqualTo("io.harborrobot.operator.reconciler.Example");
    assertThat(first.path("formattedMessage").asText())
        .isEqualTo("Created robot robot$team-a+pull in project team-a");
    assertThat(first.path("mdc").path("resource.namespace").asText()).isEqualTo("team-a");
    assertThat(first.path("mdc").path("resource.name").asText()).isEqualTo("pull");
    assertThat(first.path("timestamp").asLong()).isPositive();
    JsonNode second = json.readTree(lines.get(1));
    assertThat(second.path("formattedMessage").asText())
        .isEqualTo("no resource here\nsecond line of the same event");
  }

  @Test
  void applyingAFormatSendsJavaUtilLoggingThroughIt() {
    LogFormat.PLAIN.apply();
    LoggerContext global = (LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
    ListAppender<ILoggingEvent> seen = new ListAppender<>();
    seen.start();
    Logger root = global.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.addAppender(seen);
    try {
      java.util.logging.Logger.getLogger("okhttp3.OkHttpClient").warning("a connection leaked");
      java.util.logging.Logger.getLogger("okhttp3.OkHttpClient").fine("below the level");
    } finally {
      root.detachAppender(seen);
    }

    assertThat(seen.list)
        .extracting(ILoggingEvent::getFormattedMessage)
        .containsExactly("a connection leaked");
  }
}
