package io.harborrobot.operator.ops;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import java.net.URL;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/** How the operator logs: one line per event, plain text or JSON. */
public enum LogFormat {
  PLAIN("/logback.xml"),
  JSON("/logback-json.xml");

  private final String configuration;

  LogFormat(String configuration) {
    this.configuration = configuration;
  }

  /**
   * Switches the process's logging to this format, and sends java.util.logging (OkHttp, the JDK's
   * HTTP server) the same way, so that every line has this format.
   */
  public void apply() {
    configure((LoggerContext) LoggerFactory.getILoggerFactory());
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
  }

  /** Configures {@code context} for this format, replacing what it had. */
  public void configure(LoggerContext context) {
    URL resource = LogFormat.class.getResource(configuration);
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    context.reset();
    try {
      configurator.doConfigure(resource);
    } catch (JoranException e) {
      throw new IllegalStateException("cannot configure logging from " + configuration, e);
    }
  }
}
