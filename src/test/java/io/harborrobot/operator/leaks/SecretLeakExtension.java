package io.harborrobot.operator.leaks;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import io.harborrobot.operator.sandbox.HarborEmulator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;
import org.slf4j.LoggerFactory;

/**
 * Fails a test class when a robot secret or an admin password appeared anywhere people read: any
 * log line (message, MDC, key-value pairs, exception chain) of any logger, or any Event, custom
 * resource (spec and status), ConfigMap or Secret metadata the operator wrote. Registered for every
 * test class like {@code HarborContractExtension} ({@code META-INF/services}), so every scenario of
 * the suite, present or future, is checked without opting in.
 *
 * <p>The secrets are those any {@link HarborEmulator} of the JVM issued or accepted ({@link
 * HarborEmulator#secretsEverIssued}), the admin passwords set on them, and the passwords of the
 * operator's Secrets seen at {@link LeakWitness#snapshot}. The operator's own loggers run at DEBUG
 * for the class; other libraries keep their level, because at DEBUG the HTTP clients print request
 * bodies that legitimately carry secrets to Harbor and to the API server.
 *
 * <p>The check runs after the class (after its {@code @AfterAll}, so after the harness closed) and
 * names where each leak was, with the secret masked: the report never shows a secret.
 */
public final class SecretLeakExtension
    implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback, AfterAllCallback {

  private static final Namespace NAMESPACE = Namespace.create(SecretLeakExtension.class);
  private static final String CAPTURE = "capture";
  private static final String OPERATOR_LOGGERS = "io.harborrobot";
  private static final int SHOWN = 20;

  @Override
  public void beforeAll(ExtensionContext context) {
    LeakCapture capture = new LeakCapture(context.getRequiredTestClass().getName());
    LoggerContext logback = (LoggerContext) LoggerFactory.getILoggerFactory();
    capture.setContext(logback);
    capture.start();
    Logger operator = logback.getLogger(OPERATOR_LOGGERS);
    context.getStore(NAMESPACE).put(CAPTURE, new Installed(capture, operator.getLevel()));
    operator.setLevel(Level.DEBUG);
    logback.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(capture);
    LeakWitness.open(capture);
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    LeakWitness.phase(context.getDisplayName());
  }

  @Override
  public void afterEach(ExtensionContext context) {
    LeakWitness.phase("after " + context.getDisplayName());
  }

  @Override
  public void afterAll(ExtensionContext context) {
    Installed installed = context.getStore(NAMESPACE).remove(CAPTURE, Installed.class);
    if (installed == null) {
      return;
    }
    LeakCapture capture = installed.capture();
    LoggerContext logback = (LoggerContext) LoggerFactory.getILoggerFactory();
    LeakWitness.close(capture);
    logback.getLogger(Logger.ROOT_LOGGER_NAME).detachAppender(capture);
    capture.stop();
    logback.getLogger(OPERATOR_LOGGERS).setLevel(installed.operatorLevel());

    long started = System.nanoTime();
    Optional<String> failure =
        check(
            capture,
            HarborEmulator.secretsEverIssued(),
            HarborEmulator.adminPasswordsEverSet(),
            context.getRequiredTestClass().getName());
    LoggerFactory.getLogger(SecretLeakExtension.class)
        .info(
            "{}: {} log lines and snapshot texts checked for secrets in {} ms",
            context.getRequiredTestClass().getSimpleName(),
            capture.entries().size(),
            (System.nanoTime() - started) / 1_000_000);
    failure.ifPresent(
        message -> {
          throw new AssertionError(message);
        });
  }

  /**
   * The failure message for what {@code capture} holds, if it holds any of {@code robotSecrets},
   * {@code adminPasswords} or the secrets it collected itself, or could not be fully captured.
   */
  static Optional<String> check(
      LeakCapture capture, Set<String> robotSecrets, Set<String> adminPasswords, String testClass) {
    Set<String> secrets = new HashSet<>(robotSecrets);
    secrets.addAll(capture.extraSecrets());
    SecretScanner scanner = new SecretScanner(secrets, adminPasswords);
    Set<String> leaks = new LinkedHashSet<>();
    for (LeakCapture.Entry entry : capture.entries()) {
      scanner.scan(entry.where(), entry.text()).ifPresent(leak -> leaks.add(leak.toString()));
    }
    List<String> problems = capture.problems();
    if (leaks.isEmpty() && problems.isEmpty()) {
      return Optional.empty();
    }
    StringBuilder sb = new StringBuilder();
    if (!leaks.isEmpty()) {
      sb.append(leaks.size())
          .append(" place(s) in ")
          .append(testClass)
          .append(" showed a secret (masked below):\n  ")
          .append(leaks.stream().limit(SHOWN).collect(Collectors.joining("\n  ")));
      if (leaks.size() > SHOWN) {
        sb.append("\n  ... and ").append(leaks.size() - SHOWN).append(" more");
      }
    }
    if (!problems.isEmpty()) {
      sb.append(sb.length() > 0 ? "\n" : "")
          .append("the secret leak check of ")
          .append(testClass)
          .append(" could not see everything:\n  ")
          .append(String.join("\n  ", problems));
    }
    return Optional.of(sb.toString());
  }

  /** The capture of a class and the operator loggers' level before it (null: inherited). */
  private record Installed(LeakCapture capture, Level operatorLevel) {}
}
