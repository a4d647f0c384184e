package io.harborrobot.operator.leaks;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import io.harborrobot.operator.sandbox.HarborEmulator;
import io.harborrobot.operator.sandbox.Sandbox;
import io.harborrobot.operator.secret.CredentialSecrets;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The leak check must catch a secret wherever it is and only then. The fake leaks go into captures
 * of this test's own, never through the root logger, or this class's real check would fail.
 */
class SecretLeakExtensionTest {

  private static String secret;

  @BeforeAll
  static void issueASecret() {
    try (HarborEmulator harbor = HarborEmulator.start()) {
      harbor.setAdminCredentials(Sandbox.ADMIN_USER, Sandbox.ADMIN_PASSWORD);
      harbor.createProject("leaky");
      long id = harbor.createRobotByHand("leaky", "ci", Set.of("repository:pull"), -1);
      secret = harbor.refreshSecretByHand(id);
    }
  }

  @Test
  void theEmulatorRemembersWhatItIssued() {
    assertThat(HarborEmulator.secretsEverIssued()).contains(secret);
    assertThat(HarborEmulator.adminPasswordsEverSet()).contains(Sandbox.ADMIN_PASSWORD);
  }

  @Test
  void aLogLineWithAnIssuedSecretFailsTheClassAndTheReportMasksIt() {
    LeakCapture capture = new LeakCapture("Fake");
    capture.add("log INFO io.harborrobot.Fake [main]", "rotated robot$leaky+ci to " + secret);

    Optional<String> failure = check(capture);

    assertThat(failure).isPresent();
    assertThat(failure.get())
        .contains("1 place(s) in Fake")
        .contains("robot secret in log INFO io.harborrobot.Fake [main]")
        .contains("rotated robot$leaky+ci to <ROBOT SECRET>")
        .doesNotContain(secret);
  }

  @Test
  void fingerprintsAndMasksAreNotLeaks() {
    LeakCapture capture = new LeakCapture("Fake");
    capture.add(
        "Secret leaky/ci metadata",
        "{\"harborrobot.io/credential-applied\":\"7:"
            + CredentialSecrets.fingerprint(secret)
            + "\"} password=****");
    capture.add("log DEBUG x [main]", "short values never match: " + secret.substring(0, 7));

    assertThat(check(capture)).isEmpty();
  }

  @Test
  void aSecretInsideBase64IsFoundAtEveryAlignment() {
    for (String user : List.of("", "a", "ab", "robot$leaky+ci")) {
      LeakCapture capture = new LeakCapture("Fake");
      String basic =
          Base64.getEncoder()
              .encodeToString((user + ":" + secret).getBytes(StandardCharsets.UTF_8));
      capture.add("log DEBUG okhttp [main]", "Authorization: Basic " + basic);

      assertThat(check(capture)).as("user %s", user).isPresent();
      // the whole base64 token goes: its edges encode the secret's first and last characters
      assertThat(check(capture).get())
          .endsWith(": Authorization: Basic <ROBOT SECRET IN BASE64>")
          .doesNotContain(secret);
    }
  }

  @Test
  void theAdminPasswordIsASecretToo() {
    LeakCapture capture = new LeakCapture("Fake");
    capture.add("Event team-1/harbor.1", "login with admin/" + Sandbox.ADMIN_PASSWORD + " failed");

    assertThat(check(capture)).get().asString().contains("admin password in Event team-1/harbor.1");
  }

  @Test
  void aPasswordOnlyTheOperatorKnewIsASecretToo() {
    String generated = "Op3ratorGeneratedPassw0rdNeverSentToHarbor";
    LeakCapture capture = new LeakCapture("Fake");
    capture.addSecret(generated);
    capture.add("HarborRobot team-1/ci", "{\"status\":{\"message\":\"" + generated + "\"}}");

    assertThat(check(capture)).isPresent();
  }

  @Test
  void aSecretAnywhereInALoggedEventIsCaptured() {
    LoggerContext logback = (LoggerContext) LoggerFactory.getILoggerFactory();
    Logger logger = logback.getLogger("leak-test-" + System.nanoTime());
    logger.setAdditive(false); // away from the root logger, where the real check listens
    LeakCapture capture = new LeakCapture("Fake");
    capture.setContext(logback);
    capture.start();
    logger.addAppender(capture);
    try {
      logger.error(
          "nothing to see", new IllegalStateException("outer", new RuntimeException(secret)));
      MDC.put("credential", secret);
      try {
        logger.info("nothing to see either");
      } finally {
        MDC.remove("credential");
      }
      logger.atInfo().addKeyValue("password", secret).log("nor here");
    } finally {
      logger.detachAppender(capture);
      capture.stop();
    }

    String report = check(capture).orElseThrow();
    assertThat(report)
        .contains("3 place(s)")
        .contains("log ERROR leak-test-")
        .doesNotContain(secret);
  }

  @Test
  void aSnapshotThatFailedFailsTheCheck() {
    LeakCapture capture = new LeakCapture("Fake");
    capture.problem("the snapshot at OperatorHarness.close() failed: boom");

    assertThat(check(capture)).get().asString().contains("could not see everything");
  }

  @Test
  void theExcerptShowsTheLeakEvenFarIntoALongText() {
    LeakCapture capture = new LeakCapture("Fake");
    capture.add("log WARN x [main]", "x".repeat(5_000) + secret);

    assertThat(check(capture).orElseThrow()).contains("...xxx").contains("<ROBOT SECRET>");
  }

  private static Optional<String> check(LeakCapture capture) {
    return SecretLeakExtension.check(
        capture,
        HarborEmulator.secretsEverIssued(),
        HarborEmulator.adminPasswordsEverSet(),
        "Fake");
  }
}
