package io.harborrobot.operator.harbor.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import io.harborrobot.operator.sandbox.ExchangeObserver;
import io.harborrobot.operator.sandbox.HarborEmulator;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * {@link HarborContractExtension} fails a test class whose exchanges with a Harbor emulator break
 * Harbor's swagger, and only that class. The two classes below are run here through the JUnit
 * Platform Launcher, with the extension registered as for every class of the suite: the launcher
 * reads {@code junit-platform.properties} (autodetection) and {@code META-INF/services} from the
 * test classpath, nothing is registered by hand. They run only when launched from here ({@link
 * OnlyWhenLaunched}); their names do not end in {@code Test} or {@code IT}, so surefire and
 * failsafe do not pick them up either.
 */
class HarborContractExtensionTest {

  /** Set for the launched classes only: without it they are skipped. */
  static final String LAUNCHED = "harborrobot.contract-extension-test.launched";

  private static final String ADMIN = "admin";
  private static final String PASSWORD = "Harbor12345";
  private static final String VALID_CREATE =
      "{\"name\":\"ci\",\"description\":\"d\",\"level\":\"project\",\"duration\":-1,"
          + "\"permissions\":[{\"kind\":\"project\",\"namespace\":\"proj\",\"access\":"
          + "[{\"resource\":\"repository\",\"action\":\"pull\",\"effect\":\"allow\"}]}]}";

  /** The same create with the duration as a string, which Harbor's swagger types as an integer. */
  private static final String DURATION_AS_STRING =
      VALID_CREATE.replace("\"duration\":-1", "\"duration\":\"x\"");

  @Test
  void aClassThatSendsARequestBreakingTheSwaggerFailsWithTheViolation() {
    ExchangeObserver outer = HarborEmulator.defaultExchangeObserver();
    assertThat(outer).as("this class's own contract").isInstanceOf(HarborContract.class);

    TestExecutionSummary summary = launch(SendsADurationAsAString.class);

    assertThat(summary.getTestsFoundCount()).isEqualTo(1);
    assertThat(summary.getTestsSucceededCount())
        .as("its test passes: Harbor's answer was what it expected")
        .isEqualTo(1);
    assertThat(summary.getContainersFailedCount()).as("the class fails").isEqualTo(1);
    assertThat(summary.getFailures())
        .singleElement()
        .satisfies(
            failure -> {
              assertThat(failure.getTestIdentifier().getSource())
                  .contains(ClassSource.from(SendsADurationAsAString.class));
              assertThat(failure.getException())
                  .isInstanceOf(AssertionError.class)
                  .hasMessageContaining(
                      "1 exchange(s) with the Harbor emulator in "
                          + SendsADurationAsAString.class.getName()
                          + " broke Harbor's swagger")
                  .hasMessageContaining("POST /api/v2.0/robots -> 422 [request]")
                  .hasMessageContaining("validation.request.body.schema.type")
                  .hasMessageContaining("/duration");
            });
    // The launched class's contract took the violation; this class's is back, and clean.
    assertThat(HarborEmulator.defaultExchangeObserver()).isSameAs(outer);
    assertThat(((HarborContract) outer).violations()).isEmpty();
  }

  @Test
  void itsWellFormedTwinPasses() {
    ExchangeObserver outer = HarborEmulator.defaultExchangeObserver();

    TestExecutionSummary summary = launch(SendsAWellFormedCreate.class);

    assertThat(summary.getTestsFoundCount()).isEqualTo(1);
    assertThat(summary.getTestsSucceededCount()).isEqualTo(1);
    assertThat(summary.getFailures()).isEmpty();
    assertThat(summary.getContainersFailedCount()).isZero();
    assertThat(HarborEmulator.defaultExchangeObserver()).isSameAs(outer);
  }

  @Test
  void theLaunchedClassesAreSkippedWhenNotLaunchedFromHere() {
    TestExecutionSummary summary =
        execute(
            LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClass(SendsADurationAsAString.class))
                .build());

    assertThat(summary.getContainersSkippedCount()).as("the class is skipped").isEqualTo(1);
    assertThat(summary.getTestsStartedCount()).isZero();
    assertThat(summary.getFailures()).isEmpty();
  }

  private static TestExecutionSummary launch(Class<?> testClass) {
    return execute(
        LauncherDiscoveryRequestBuilder.request()
            .selectors(selectClass(testClass))
            .configurationParameter(LAUNCHED, "true")
            .build());
  }

  private static TestExecutionSummary execute(
      org.junit.platform.launcher.LauncherDiscoveryRequest request) {
    Launcher launcher = LauncherFactory.create();
    SummaryGeneratingListener listener = new SummaryGeneratingListener();
    launcher.execute(request, listener);
    return listener.getSummary();
  }

  /** Sends {@code body} as a robot create to a fresh emulator and returns Harbor's status. */
  private static int createRobot(String body) throws IOException, InterruptedException {
    // Started inside the launched class: it is observed by that class's contract.
    try (HarborEmulator harbor = HarborEmulator.start()) {
      harbor.createProject("proj");
      HttpRequest request =
          HttpRequest.newBuilder(URI.create(harbor.baseUrl() + "/api/v2.0/robots"))
              .header("Content-Type", "application/json")
              .header(
                  "Authorization",
                  "Basic "
                      + Base64.getEncoder()
                          .encodeToString(
                              (ADMIN + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8)))
              .POST(BodyPublishers.ofString(body))
              .build();
      return HttpClient.newHttpClient().send(request, BodyHandlers.discarding()).statusCode();
    }
  }

  /** Enables a class only when {@link #LAUNCHED} is set, i.e. when launched by this test. */
  static final class OnlyWhenLaunched implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
      return context.getConfigurationParameter(LAUNCHED).filter("true"::equals).isPresent()
          ? ConditionEvaluationResult.enabled("launched by HarborContractExtensionTest")
          : ConditionEvaluationResult.disabled("run only by HarborContractExtensionTest");
    }
  }

  /** Breaks the swagger: a duration sent as a string, which Harbor refuses with 422. */
  @ExtendWith(OnlyWhenLaunched.class)
  static class SendsADurationAsAString {
    @Test
    void harborRefusesIt() throws Exception {
      assertThat(createRobot(DURATION_AS_STRING)).isEqualTo(422);
    }
  }

  /** The same request, well formed. */
  @ExtendWith(OnlyWhenLaunched.class)
  static class SendsAWellFormedCreate {
    @Test
    void harborCreatesTheRobot() throws Exception {
      assertThat(createRobot(VALID_CREATE)).isEqualTo(201);
    }
  }
}
