package io.harborrobot.operator.harbor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.harborrobot.operator.harbor.HarborException.Kind;
import io.harborrobot.operator.harbor.HarborStub.Answer;
import io.harborrobot.operator.sandbox.ExchangeObserver;
import io.harborrobot.operator.sandbox.HarborEmulator;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class OkHttpHarborClientTest {

  private static final String ADMIN = "admin";
  private static final String PASSWORD = "Harbor12345";

  private static OkHttpHarborClientFactory factory;

  /**
   * Retries as in production, without waiting for the backoff or a login lockout
   * (ResilientClientTest checks the waits themselves).
   */
  private static final ClientSettings NO_WAITING =
      ClientSettings.defaults().withTime(duration -> {}, java.time.Clock.systemUTC());

  private static OkHttpHarborClientFactory impatientFactory(Duration readTimeout) {
    return new OkHttpHarborClientFactory(
        NO_WAITING.withTimeouts(Duration.ofSeconds(2), readTimeout, Duration.ofSeconds(5)),
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
  }

  /** Every secret a test has seen; none may show up in a message, a toString or a log line. */
  private static final List<String> SECRETS = new ArrayList<>(List.of(PASSWORD));

  private static final ListAppender<ILoggingEvent> LOGS = new ListAppender<>();
  private static Level previousLevel;

  @BeforeAll
  static void startFactoryAndCaptureLogs() {
    factory =
        new OkHttpHarborClientFactory(
            NO_WAITING, new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
    Logger logger = (Logger) LoggerFactory.getLogger("io.harborrobot.operator.harbor");
    previousLevel = logger.getLevel();
    logger.setLevel(Level.DEBUG);
    LOGS.start();
    logger.addAppender(LOGS);
  }

  @AfterAll
  static void stopFactoryAndCheckLogs() {
    Logger logger = (Logger) LoggerFactory.getLogger("io.harborrobot.operator.harbor");
    logger.detachAppender(LOGS);
    logger.setLevel(previousLevel);
    factory.close();
    assertThat(LOGS.list).as("debug lines were written").isNotEmpty();
    for (ILoggingEvent event : LOGS.list) {
      for (String secret : SECRETS) {
        assertThat(event.getFormattedMessage()).doesNotContain(secret);
      }
    }
  }

  /** The admin's Basic credentials as the Authorization header carries them. */
  private static String basicCredentials() {
    return java.util.Base64.getEncoder()
        .encodeToString((ADMIN + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8));
  }

  private static HarborEndpoint endpoint(String url) {
    return new HarborEndpoint(url, ADMIN, RobotSecret.of(PASSWORD), null, false);
  }

  private static RobotCreate projectRobot(String project, String name, String... actions) {
    List<Access> access =
        actions.length == 0
            ? List.of(Access.allow("repository", "pull"))
            : java.util.Arrays.stream(actions).map(a -> Access.allow("repository", a)).toList();
    return new RobotCreate(
        name,
        "made by a test",
        "project",
        30,
        List.of(new RobotPermission("project", project, access)));
  }

  /** The exception says what failed, and holds no secret anywhere. */
  private static HarborException harborFailure(Runnable call, Kind kind) {
    HarborException e = catchThrowableOfType(HarborException.class, () -> call.run());
    assertThat(e).as("expected a HarborException of kind " + kind).isNotNull();
    assertThat(e.kind()).as(e.getMessage()).isEqualTo(kind);
    assertNoSecretIn(e);
    return e;
  }

  private static void assertNoSecretIn(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      for (String secret : SECRETS) {
        assertThat(String.valueOf(t.getMessage())).doesNotContain(secret);
        assertThat(t.toString()).doesNotContain(secret);
      }
    }
  }

  // =============================================================================================
  // Against the Harbor emulator
  // =============================================================================================

  @Nested
  class AgainstTheEmulator {

    private HarborEmulator harbor;
    private HarborClient client;

    @BeforeEach
    void start() {
      harbor = HarborEmulator.start();
      harbor.setLoginLockout(Duration.ZERO);
      client = factory.create(endpoint(harbor.baseUrl()));
    }

    @AfterEach
    void stop() {
      harbor.close();
    }

    private RobotCreated create(String project, String name) {
      RobotCreated created = client.createRobot(projectRobot(project, name));
      SECRETS.add(created.secret().reveal());
      return created;
    }

    @Test
    void systemInfoReportsVersionAndRegistryHost() {
      SystemInfo info = client.systemInfo();

      assertThat(info.harborVersion()).startsWith("v2.");
      assertThat(info.registryUrl()).isEqualTo(harbor.registryHost());
    }

    @Test
    void findProjectByNameOrEmptyWhenMissing() {
      long id = harbor.createProject("team-a");

      assertThat(client.findProject("team-a")).contains(new Project(id, "team-a"));
      assertThat(client.findProject("nope")).isEmpty();
    }

    @Test
    void createRobotReturnsTheOneTimeSecretAndHarborHoldsTheRobot() {
      harbor.createProject("team-a");

      RobotCreated created = client.createRobot(projectRobot("team-a", "ci", "pull", "push"));
      SECRETS.add(created.secret().reveal());

      assertThat(created.id()).isPositive();
      assertThat(created.name()).isEqualTo("robot$team-a+ci");
      assertThat(created.secret().reveal()).hasSize(32);
      assertThat(created.creationTime()).isNotNull();
      assertThat(harbor.findRobot("team-a", "ci"))
          .hasValueSatisfying(
              r -> {
                assertThat(r.id()).isEqualTo(created.id());
                assertThat(r.permissions())
                    .containsExactlyInAnyOrder("repository:pull", "repository:push");
              });
      assertThat(harbor.credentialsWork(created.name(), created.secret().reveal())).isTrue();
      assertThat(created.toString()).doesNotContain(created.secret().reveal());
    }

    @Test
    void getRobotReadsItBackAndIsEmptyWhenMissing() {
      harbor.createProject("team-a");
      RobotCreated created = create("team-a", "ci");

      Robot robot = client.getRobot(created.id()).orElseThrow();

      assertThat(robot.name()).isEqualTo("robot$team-a+ci");
      assertThat(robot.level()).isEqualTo("project");
      assertThat(robot.description()).isEqualTo("made by a test");
      assertThat(robot.permissions())
          .singleElement()
          .satisfies(
              p -> {
                assertThat(p.namespace()).isEqualTo("team-a");
                assertThat(p.access()).extracting(Access::action).containsExactly("pull");
              });
      assertThat(client.getRobot(created.id() + 1000)).isEmpty();
    }

    @Test
    void findProjectRobotMatchesTheExactNameOnly() {
      long id = harbor.createProject("team-a");
      Project project = new Project(id, "team-a");
      create("team-a", "ci-2");
      create("team-a", "my-ci");
      RobotCreated ci = create("team-a", "ci");

      assertThat(client.findProjectRobot(project, "ci"))
          .hasValueSatisfying(r -> assertThat(r.id()).isEqualTo(ci.id()));
      assertThat(client.findProjectRobot(project, "c")).isEmpty();
      assertThat(client.findProjectRobot(project, "other")).isEmpty();
    }

    @Test
    void findProjectRobotDoesNotSeeAnotherProjectsRobot() {
      long a = harbor.createProject("a");
      harbor.createProject("xa");
      create("xa", "ci");

      assertThat(client.findProjectRobot(new Project(a, "a"), "ci")).isEmpty();
    }

    @Test
    void findProjectRobotFollowsPagesBeyondOneHundredRobots() {
      long id = harbor.createProject("big");
      for (int i = 0; i < 150; i++) {
        harbor.createRobotByHand(
            "big", String.format("a-zci-%03d", i), Set.of("repository:pull"), 30);
      }
      harbor.createRobotByHand("big", "zci", Set.of("repository:pull"), 30);
      Map<String, Integer> before = Map.copyOf(harbor.requestCountsByRoute());

      Robot found = client.findProjectRobot(new Project(id, "big"), "zci").orElseThrow();

      assertThat(found.name()).isEqualTo("robot$big+zci");
      assertThat(listRequests(harbor.requestCountsByRoute()) - listRequests(before))
          .as("list requests for 151 matching robots")
          .isEqualTo(2);
      assertThat(client.findProjectRobot(new Project(id, "big"), "zci-999")).isEmpty();
    }

    private int listRequests(Map<String, Integer> counts) {
      return counts.entrySet().stream()
          .filter(e -> e.getKey().startsWith("GET") && e.getKey().endsWith("/robots"))
          .mapToInt(Map.Entry::getValue)
          .sum();
    }

    @Test
    void findProjectRobotWithAPrefixThatContainsPlus() {
      long id = harbor.createProject("team-a");
      harbor.setRobotNamePrefix("robot+x$");
      RobotCreated created = create("team-a", "ci");
      create("team-a", "x");

      assertThat(created.name()).isEqualTo("robot+x$team-a+ci");
      assertThat(client.findProjectRobot(new Project(id, "team-a"), "ci"))
          .hasValueSatisfying(r -> assertThat(r.name()).isEqualTo("robot+x$team-a+ci"));
    }

    @Test
    void updateRobotReplacesDescriptionDisableAndPermissions() {
      harbor.createProject("team-a");
      RobotCreated created = create("team-a", "ci");
      Robot current = client.getRobot(created.id()).orElseThrow();

      client.updateRobot(
          new Robot(
              current.id(),
              current.name(),
              "changed",
              current.level(),
              current.duration(),
              current.editable(),
              true,
              current.expiresAt(),
              List.of(
                  new RobotPermission(
                      "project",
                      "team-a",
                      List.of(Access.allow("repository", "pull"), Access.allow("tag", "list")))),
              current.creationTime(),
              current.updateTime()));

      var stored = harbor.robot(created.id()).orElseThrow();
      assertThat(stored.description()).isEqualTo("changed");
      assertThat(stored.disabled()).isTrue();
      assertThat(stored.permissions()).containsExactlyInAnyOrder("repository:pull", "tag:list");
    }

    @Test
    void updateRobotWithAChangedNameIsABadRequestWithHarborsMessage() {
      harbor.createProject("team-a");
      RobotCreated created = create("team-a", "ci");
      Robot current = client.getRobot(created.id()).orElseThrow();
      Robot renamed =
          new Robot(
              current.id(),
              "robot$team-a+other",
              current.description(),
              current.level(),
              current.duration(),
              current.editable(),
              current.disable(),
              current.expiresAt(),
              current.permissions(),
              current.creationTime(),
              current.updateTime());

      HarborException e = harborFailure(() -> client.updateRobot(renamed), Kind.BAD_REQUEST);

      assertThat(e.httpStatus()).isEqualTo(400);
      assertThat(e.harborMessage()).contains("cannot update the level or name");
      assertThat(e.getMessage()).startsWith("PUT /api/v2.0/robots/{id} returned 400");
    }

    @Test
    void setRobotSecretMakesTheNewSecretWorkAndTheOldOneFail() {
      harbor.createProject("team-a");
      RobotCreated created = create("team-a", "ci");
      RobotSecret chosen = RobotSecret.generate();
      SECRETS.add(chosen.reveal());

      client.setRobotSecret(created.id(), chosen);

      assertThat(harbor.credentialsWork(created.name(), chosen.reveal())).isTrue();
      assertThat(client.registryLoginSucceeds(created.name(), chosen)).isTrue();
      assertThat(client.registryLoginSucceeds(created.name(), created.secret())).isFalse();
    }

    @Test
    void aRequestIsLoggedAtDebugWithMethodRouteStatusDurationAndHarborsRequestIdButNoBody() {
      harbor.createProject("team-a");
      RobotCreated created = create("team-a", "ci");
      RobotSecret chosen = RobotSecret.generate();
      SECRETS.add(chosen.reveal());
      List<String> requestIds = new CopyOnWriteArrayList<>();
      ExchangeObserver contract = harbor.exchangeObserver();
      harbor.setExchangeObserver(
          exchange -> {
            if (contract != null) {
              contract.observe(exchange);
            }
            if ("PATCH".equals(exchange.method())) {
              requestIds.add(exchange.requestHeader("X-Request-Id"));
            }
          });
      // every response comes no sooner than this, so the logged duration has a floor
      harbor.setLatency(Duration.ofMillis(150));

      client.setRobotSecret(created.id(), chosen);

      assertThat(requestIds).as("X-Request-Id of the PATCH Harbor received").hasSize(1);
      String requestId = requestIds.get(0);
      assertThat(requestId).isNotBlank();
      List<ILoggingEvent> lines;
      synchronized (LOGS) {
        lines =
            LOGS.list.stream().filter(e -> e.getFormattedMessage().contains(requestId)).toList();
      }
      assertThat(lines)
          .singleElement()
          .satisfies(
              line -> {
                String text = line.getFormattedMessage();
                assertThat(line.getLevel()).isEqualTo(Level.DEBUG);
                assertThat(line.getLoggerName()).isEqualTo(OkHttpHarborClient.class.getName());
                assertThat(text)
                    .contains("PATCH")
                    .contains("/api/v2.0/robots/{id}")
                    .contains("-> 200")
                    .contains("request id " + requestId);
                Matcher duration = Pattern.compile(" in (\\d+) ms").matcher(text);
                assertThat(duration.find()).as("a duration in ms in: %s", text).isTrue();
                assertThat(Long.parseLong(duration.group(1))).isBetween(150L, 10_000L);
                // the route template, not the path: no id, no body, no header
                assertThat(text)
                    .doesNotContain("/robots/" + created.id())
                    .doesNotContain(chosen.reveal())
                    .doesNotContain("secret")
                    .doesNotContain("{\"")
                    .doesNotContain(PASSWORD)
                    .doesNotContain(basicCredentials())
                    .doesNotContain("Authorization");
              });
    }

    @Test
    void setRobotSecretRefusesAnEmptySecretAndHarborRefusesAWeakOne() {
      harbor.createProject("team-a");
      RobotCreated created = create("team-a", "ci");

      assertThatThrownBy(() -> client.setRobotSecret(created.id(), RobotSecret.of("")))
          .isInstanceOf(IllegalArgumentException.class);
      SECRETS.add("weaksecret");
      HarborException e =
          harborFailure(
              () -> client.setRobotSecret(created.id(), RobotSecret.of("weaksecret")),
              Kind.BAD_REQUEST);
      assertThat(e.harborMessage()).contains("8-128");
    }

    @Test
    void deleteRobotIsTrueThenFalse() {
      harbor.createProject("team-a");
      RobotCreated created = create("team-a", "ci");

      assertThat(client.deleteRobot(created.id())).isTrue();
      assertThat(client.deleteRobot(created.id())).isFalse();
      assertThat(harbor.robots()).isEmpty();
    }

    @Test
    void registryLoginFailsForAWrongSecretAnUnknownRobotAndADeletedOne() {
      harbor.createProject("team-a");
      RobotCreated created = create("team-a", "ci");

      assertThat(client.registryLoginSucceeds(created.name(), created.secret())).isTrue();
      assertThat(client.registryLoginSucceeds(created.name(), RobotSecret.of("Wrong1234")))
          .isFalse();
      assertThat(client.registryLoginSucceeds("robot$nobody", created.secret())).isFalse();
      harbor.deleteRobotByHand(created.id());
      assertThat(client.registryLoginSucceeds(created.name(), created.secret())).isFalse();
    }

    @Test
    void aLostCreateResponseIsOutcomeUnknownAndIsNotResent() {
      harbor.createProject("team-a");
      harbor.loseResponseNext("POST", "/api/v2.0/robots");

      HarborException e =
          harborFailure(
              () -> client.createRobot(projectRobot("team-a", "ci")), Kind.OUTCOME_UNKNOWN);

      assertThat(e.httpStatus()).isZero();
      assertThat(e.getMessage()).startsWith("POST /api/v2.0/robots failed (OUTCOME_UNKNOWN)");
      assertThat(harbor.robots()).hasSize(1);
      assertThat(harbor.requestCountsByRoute())
          .hasEntrySatisfying(postRobotsKey(), n -> assertThat(n).isEqualTo(1));
      // the caller resolves it with a lookup
      long id = client.findProject("team-a").orElseThrow().projectId();
      assertThat(client.findProjectRobot(new Project(id, "team-a"), "ci")).isPresent();
    }

    private String postRobotsKey() {
      return harbor.requestCountsByRoute().keySet().stream()
          .filter(k -> k.startsWith("POST") && k.endsWith("/robots"))
          .findFirst()
          .orElseThrow();
    }

    @Test
    void aLostUpdateResponseIsRepeatedAndOnlyThenUnreachable() {
      harbor.createProject("team-a");
      RobotCreated created = create("team-a", "ci");
      Robot current = client.getRobot(created.id()).orElseThrow();
      harbor.loseResponseNext("PUT", "/api/v2.0/robots/.*");

      client.updateRobot(current.withDescription("changed"));

      assertThat(harbor.robot(created.id()).orElseThrow().description()).isEqualTo("changed");
      for (int i = 0; i < RetryPolicy.DEFAULT.maxAttempts(); i++) {
        harbor.loseResponseNext("PUT", "/api/v2.0/robots/.*");
      }
      harborFailure(() -> client.updateRobot(current), Kind.UNREACHABLE);
      assertThat(harbor.pendingFaults()).isZero();
    }

    @Test
    void aDuplicateIsAConflict() {
      harbor.createProject("team-a");
      create("team-a", "ci");

      HarborException e =
          harborFailure(() -> client.createRobot(projectRobot("team-a", "ci")), Kind.CONFLICT);

      assertThat(e.httpStatus()).isEqualTo(409);
      assertThat(e.harborMessage()).contains("already exists");
    }

    @Test
    void anInvalidNameIsABadRequestWithHarborsMessage() {
      harbor.createProject("team-a");

      HarborException e =
          harborFailure(
              () -> client.createRobot(projectRobot("team-a", "Not+Valid")), Kind.BAD_REQUEST);

      assertThat(e.harborMessage()).contains("lower case");
      assertThat(e.requestId()).isNotBlank();
    }

    @Test
    void aMissingProjectOnCreateIsNotFound() {
      harborFailure(() -> client.createRobot(projectRobot("ghost", "ci")), Kind.NOT_FOUND);
    }

    @Test
    void wrongAdminCredentialsAreUnauthorizedAndNotEchoed() {
      SECRETS.add("Wr0ngPassw0rd");
      HarborClient wrong =
          factory.create(
              new HarborEndpoint(
                  harbor.baseUrl(), ADMIN, RobotSecret.of("Wr0ngPassw0rd"), null, false));

      // Harbor serves systeminfo anonymously (200 without the version) instead of answering 401
      HarborException anonymous = harborFailure(wrong::systemInfo, Kind.UNAUTHORIZED);
      assertThat(anonymous.httpStatus()).isEqualTo(200);
      HarborException e = harborFailure(() -> wrong.getRobot(1), Kind.UNAUTHORIZED);
      assertThat(e.httpStatus()).isEqualTo(401);
      assertThat(wrong.toString()).doesNotContain("Wr0ngPassw0rd");
    }

    @Test
    void injectedFaultsKeepTheirStatusAndAreNotApplied() {
      harbor.createProject("team-a");
      harbor.failNext("POST", "/api/v2.0/robots", 503);

      HarborException e =
          harborFailure(() -> client.createRobot(projectRobot("team-a", "ci")), Kind.SERVER_ERROR);

      assertThat(e.kind().isTransient()).isTrue();
      assertThat(harbor.robots()).isEmpty();
      harbor.failNext("GET", "/api/v2.0/systeminfo", 429, RetryPolicy.DEFAULT.maxAttempts());
      harborFailure(client::systemInfo, Kind.RATE_LIMITED);
      harbor.failNext("DELETE", "/api/v2.0/robots/.*", 404);
      assertThat(client.deleteRobot(1)).isFalse();
    }

    @Test
    void latencyBeyondTheReadTimeoutIsOutcomeUnknownForPostOnly() {
      harbor.createProject("team-a");
      try (OkHttpHarborClientFactory impatient = impatientFactory(Duration.ofMillis(200))) {
        HarborClient hurried = impatient.create(endpoint(harbor.baseUrl()));
        harbor.setLatency(Duration.ofMillis(1500));

        harborFailure(
            () -> hurried.createRobot(projectRobot("team-a", "ci")), Kind.OUTCOME_UNKNOWN);
        harborFailure(hurried::systemInfo, Kind.UNREACHABLE);
      } finally {
        harbor.setLatency(Duration.ZERO);
      }
    }
  }

  // =============================================================================================
  // Against a scripted stub: headers, statuses and bodies the emulator does not produce
  // =============================================================================================

  @Nested
  class AgainstAStub {

    private HarborStub stub;
    private HarborClient client;

    @BeforeEach
    void start() throws IOException {
      stub = HarborStub.http();
      client = factory.create(endpoint(stub.url()));
    }

    @AfterEach
    void stop() {
      stub.close();
    }

    @Test
    void everyCallCarriesBasicAuthARequestIdAndJsonHeaders() {
      stub.respond(
          r ->
              r.method().equals("POST")
                  ? Answer.json(
                      201,
                      "{\"id\":7,\"name\":\"robot$p+ci\",\"secret\":\"Abcdefgh12345678\","
                          + "\"creation_time\":\"2026-01-02T03:04:05.678Z\",\"expires_at\":-1}")
                  : Answer.json(200, "{\"harbor_version\":\"v2.15.2-abc\"}"));
      SECRETS.add("Abcdefgh12345678");

      client.systemInfo();
      RobotCreated created = client.createRobot(projectRobot("p", "ci"));

      assertThat(created.id()).isEqualTo(7);
      assertThat(created.expiresAt()).isEqualTo(-1);
      assertThat(stub.requests).hasSize(2);
      String basic =
          "Basic "
              + java.util.Base64.getEncoder()
                  .encodeToString((ADMIN + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8));
      for (HarborStub.Received r : stub.requests) {
        assertThat(r.header("Authorization")).isEqualTo(basic);
        assertThat(r.header("X-Request-Id"))
            .matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
        assertThat(r.header("Accept")).isEqualTo("application/json");
      }
      assertThat(stub.requests.get(0).header("X-Request-Id"))
          .isNotEqualTo(stub.requests.get(1).header("X-Request-Id"));
      HarborStub.Received post = stub.requests.get(1);
      assertThat(post.path()).isEqualTo("/api/v2.0/robots");
      assertThat(post.header("Content-Type")).startsWith("application/json");
      assertThat(post.body())
          .contains("\"name\":\"ci\"", "\"duration\":30", "\"effect\":\"allow\"")
          .doesNotContain("secret", "null");
    }

    @Test
    void noCookieIsEverSentBackEvenWhenHarborSetsOne() {
      stub.respond(
          r ->
              Answer.json(200, "{\"harbor_version\":\"v2.15.2\"}")
                  .with("Set-Cookie", "sid=0123456789abcdef; Path=/; HttpOnly"));

      client.systemInfo();
      client.systemInfo();
      client.deleteRobot(3);

      assertThat(stub.requests).hasSize(3).noneMatch(r -> r.hasHeader("Cookie"));
    }

    @Test
    void theEchoedRequestIdIsReported() {
      stub.respond(
          r ->
              Answer.harborError(500, "UNKNOWN", "internal server error")
                  .with("X-Request-Id", "harbor-side-id"));

      HarborException e = harborFailure(client::systemInfo, Kind.SERVER_ERROR);

      assertThat(e.requestId()).isEqualTo("harbor-side-id");
      assertThat(e.getMessage())
          .isEqualTo(
              "GET /api/v2.0/systeminfo returned 500 (SERVER_ERROR): internal server error"
                  + " [request id harbor-side-id]");
    }

    @Test
    void readOnlyModeIsToldApartFromAPlainRefusal() {
      stub.respond(
          r ->
              Answer.harborError(
                  403,
                  "DENIED",
                  "The system is in read only mode. Any modification is prohibited."));
      HarborException readOnly = harborFailure(() -> client.deleteRobot(1), Kind.READ_ONLY);
      assertThat(readOnly.kind().isTransient()).isTrue();

      stub.respond(r -> Answer.harborError(403, "FORBIDDEN", "admin"));
      harborFailure(() -> client.deleteRobot(1), Kind.FORBIDDEN);

      stub.respond(
          r -> Answer.harborError(403, "DENIED", "editing of legacy robot is not allowed"));
      harborFailure(() -> client.deleteRobot(1), Kind.FORBIDDEN);
    }

    @Test
    void retryAfterIsReadAsSecondsOrAsADate() {
      stub.respond(
          r -> Answer.harborError(429, "TOO_MANY_REQUEST", "slow down").with("Retry-After", "7"));
      assertThat(harborFailure(client::systemInfo, Kind.RATE_LIMITED).retryAfter())
          .contains(Duration.ofSeconds(7));

      String inTwoMinutes =
          DateTimeFormatter.RFC_1123_DATE_TIME.format(
              ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(120));
      stub.respond(
          r -> Answer.harborError(503, "UNKNOWN", "busy").with("Retry-After", inTwoMinutes));
      assertThat(harborFailure(client::systemInfo, Kind.SERVER_ERROR).retryAfter())
          .hasValueSatisfying(
              d -> assertThat(d).isBetween(Duration.ofSeconds(100), Duration.ofSeconds(121)));

      stub.respond(r -> Answer.harborError(429, "TOO_MANY_REQUEST", "slow down"));
      assertThat(harborFailure(client::systemInfo, Kind.RATE_LIMITED).retryAfter()).isEmpty();

      stub.respond(
          r -> Answer.harborError(429, "TOO_MANY_REQUEST", "x").with("Retry-After", "soon"));
      assertThat(harborFailure(client::systemInfo, Kind.RATE_LIMITED).retryAfter()).isEmpty();
    }

    @Test
    void statusesMapToKinds() {
      Map<Integer, Kind> expected =
          Map.of(
              400, Kind.BAD_REQUEST,
              401, Kind.UNAUTHORIZED,
              404, Kind.NOT_FOUND,
              405, Kind.PROTOCOL,
              409, Kind.CONFLICT,
              412, Kind.PROTOCOL,
              422, Kind.BAD_REQUEST,
              502, Kind.SERVER_ERROR,
              504, Kind.SERVER_ERROR);
      expected.forEach(
          (status, kind) -> {
            stub.respond(r -> Answer.harborError(status, "WHATEVER", "status " + status));
            HarborException e = harborFailure(client::systemInfo, kind);
            assertThat(e.httpStatus()).isEqualTo(status);
            assertThat(e.harborMessage()).isEqualTo("status " + status);
          });
    }

    @Test
    void garbageIsAProtocolErrorAndIsNeverQuoted() {
      stub.respond(r -> new Answer(200, Map.of(), "<html>SECRET-LOOKING-PAGE</html>"));
      HarborException e = harborFailure(() -> client.getRobot(1), Kind.PROTOCOL);
      assertThat(e.getMessage()).doesNotContain("SECRET-LOOKING-PAGE").contains("line 1");

      stub.respond(r -> new Answer(502, Map.of(), "<html>Bad Gateway from the proxy</html>"));
      e = harborFailure(() -> client.getRobot(1), Kind.SERVER_ERROR);
      assertThat(e.harborMessage()).isNull();
      assertThat(e.getMessage()).doesNotContain("Bad Gateway from");

      stub.respond(r -> Answer.json(200, "[1,2,3]"));
      harborFailure(() -> client.getRobot(1), Kind.PROTOCOL);

      stub.respond(r -> new Answer(200, Map.of(), ""));
      harborFailure(client::systemInfo, Kind.PROTOCOL);
    }

    @Test
    void anUnreadableCreateAnswerIsOutcomeUnknown() {
      SECRETS.add("Sup3rSecretValue99");
      stub.respond(
          r ->
              Answer.json(
                  201, "{\"id\":9,\"name\":\"robot$p+ci\",\"secret\":\"Sup3rSecretValue99\""));
      HarborException e =
          harborFailure(() -> client.createRobot(projectRobot("p", "ci")), Kind.OUTCOME_UNKNOWN);
      assertThat(e.httpStatus()).isEqualTo(201);

      stub.respond(r -> Answer.json(201, "{\"id\":9,\"name\":\"robot$p+ci\"}"));
      harborFailure(() -> client.createRobot(projectRobot("p", "ci")), Kind.OUTCOME_UNKNOWN);
      assertThat(stub.requests).hasSize(2);
    }

    @Test
    void aSecretEchoedByHarborIsMasked() {
      RobotSecret secret = RobotSecret.of("Echo3dSecretValue");
      SECRETS.add(secret.reveal());
      stub.respond(
          r -> Answer.harborError(400, "BAD_REQUEST", "secret Echo3dSecretValue is not liked"));

      HarborException e = harborFailure(() -> client.setRobotSecret(5, secret), Kind.BAD_REQUEST);

      assertThat(e.harborMessage()).isEqualTo("secret ****** is not liked");
      HarborStub.Received patch = stub.requests.get(0);
      assertThat(patch.method()).isEqualTo("PATCH");
      assertThat(patch.path()).isEqualTo("/api/v2.0/robots/5");
      assertThat(patch.body()).isEqualTo("{\"secret\":\"Echo3dSecretValue\"}");
    }

    @Test
    void redirectsAreNotFollowed() {
      stub.respond(
          r ->
              new Answer(
                  308, Map.of("Location", "https://harbor.example.com/api/v2.0/robots?x=1"), ""));

      HarborException e =
          harborFailure(() -> client.createRobot(projectRobot("p", "ci")), Kind.PROTOCOL);

      assertThat(e.getMessage()).contains("redirect to https://harbor.example.com:443");
      assertThat(stub.requests).hasSize(1);
    }

    @Test
    void theRobotQueryReachesHarborWithoutAnyPlusAndSurvivesDoubleUnescaping() {
      stub.respond(r -> Answer.json(200, "[]").with("X-Total-Count", "0"));

      assertThat(client.findProjectRobot(new Project(7, "team-a"), "ci.build_1")).isEmpty();

      HarborStub.Received list = stub.requests.get(0);
      assertThat(list.path()).isEqualTo("/api/v2.0/robots");
      assertThat(list.rawQuery()).doesNotContain("+");
      Map<String, String> params =
          java.util.Arrays.stream(list.rawQuery().split("&"))
              .map(p -> p.split("=", 2))
              .collect(
                  Collectors.toMap(
                      p -> p[0], p -> URLDecoder.decode(p[1], StandardCharsets.UTF_8)));
      assertThat(params)
          .containsEntry("q", "Level=project,ProjectID=7,name=~ci.build_1")
          .containsEntry("page", "1")
          .containsEntry("page_size", "100");
      // Harbor's parseKeywords unescapes q once more: it must not change
      assertThat(URLDecoder.decode(params.get("q"), StandardCharsets.UTF_8))
          .isEqualTo(params.get("q"));
    }

    @Test
    void findProjectRobotRefusesNamesHarborCannotHold() {
      Project project = new Project(7, "team-a");
      for (String bad : List.of("a+b", "Ci", "a%2Bb", "a,b", "", "-a")) {
        assertThatThrownBy(() -> client.findProjectRobot(project, bad))
            .isInstanceOf(IllegalArgumentException.class);
      }
      assertThat(stub.requests).isEmpty();
    }

    @Test
    void paginationFollowsLinkWithoutTotalCount() {
      stub.respond(
          r -> {
            boolean first = r.rawQuery().contains("page=1&");
            String robots =
                first
                    ? robotsJson("p", IntStream.range(0, 100).mapToObj(i -> "ci-" + i).toList())
                    : robotsJson("p", List.of("ci"));
            String link =
                first
                    ? "</api/v2.0/robots?page=2&page_size=100>; rel=\"next\""
                    : "</api/v2.0/robots?page=1&page_size=100>; rel=\"prev\"";
            return Answer.json(200, robots).with("Link", link);
          });

      assertThat(client.findProjectRobot(new Project(1, "p"), "ci"))
          .hasValueSatisfying(r -> assertThat(r.name()).isEqualTo("robot$p+ci"));
      assertThat(stub.requests).hasSize(2);
      assertThat(stub.requests.get(1).rawQuery()).contains("page=2");
    }

    @Test
    void paginationStopsWhereHarborSaysItEnds() {
      // a full first page, and Link with both prev and next on the second
      stub.respond(
          r -> {
            int page =
                r.rawQuery().contains("page=1&") ? 1 : r.rawQuery().contains("page=2&") ? 2 : 3;
            String link =
                "</api/v2.0/robots?page=1&page_size=100>; rel=\"prev\" , "
                    + "</api/v2.0/robots?page=3&page_size=100>; rel=\"next\"";
            return Answer.json(
                    200,
                    robotsJson(
                        "p",
                        IntStream.range(0, page < 3 ? 100 : 10)
                            .mapToObj(i -> "ci-" + page + "-" + i)
                            .toList()))
                .with("X-Total-Count", "210")
                .with(
                    "Link",
                    page == 1 ? "</api/v2.0/robots?page=2&page_size=100>; rel=\"next\"" : link);
          });

      assertThat(client.findProjectRobot(new Project(1, "p"), "ci")).isEmpty();
      assertThat(stub.requests).hasSize(3);

      // X-Total-Count reached: no further request even if a Link still says next
      stub.requests.clear();
      stub.respond(
          r ->
              Answer.json(200, robotsJson("p", List.of("ci-1")))
                  .with("X-Total-Count", "1")
                  .with("Link", "</api/v2.0/robots?page=2&page_size=100>; rel=\"next\""));
      assertThat(client.findProjectRobot(new Project(1, "p"), "ci")).isEmpty();
      assertThat(stub.requests).hasSize(1);

      // neither header: a short page is the last
      stub.requests.clear();
      stub.respond(r -> Answer.json(200, robotsJson("p", List.of("ci-1"))));
      assertThat(client.findProjectRobot(new Project(1, "p"), "ci")).isEmpty();
      assertThat(stub.requests).hasSize(1);
    }

    private String robotsJson(String project, List<String> names) {
      return names.stream()
          .map(
              n ->
                  "{\"id\":"
                      + Math.abs(n.hashCode())
                      + ",\"name\":\"robot$"
                      + project
                      + "+"
                      + n
                      + "\",\"level\":\"project\",\"disable\":false,\"editable\":true,"
                      + "\"duration\":30,\"expires_at\":1900000000,\"permissions\":[],"
                      + "\"creation_time\":\"2026-01-02T03:04:05Z\",\"unknown_field\":1}")
          .collect(Collectors.joining(",", "[", "]"));
    }

    @Test
    void findProjectSendsTheNameAsAPathSegmentAndAsAName() {
      stub.respond(r -> Answer.json(200, "{\"project_id\":12,\"name\":\"2024\"}"));

      assertThat(client.findProject("2024")).contains(new Project(12, "2024"));
      assertThat(stub.requests.get(0).path()).isEqualTo("/api/v2.0/projects/2024");
      assertThat(stub.requests.get(0).header("X-Is-Resource-Name")).isEqualTo("true");

      client.findProject("a/b c");
      assertThat(stub.requests.get(1).path()).isEqualTo("/api/v2.0/projects/a%2Fb%20c");
    }

    @Test
    void aBaseUrlWithAPathIsKeptAndTheRegistryCheckUsesIt() {
      SECRETS.add("Abc12345");
      HarborClient prefixed = factory.create(endpoint(stub.url() + "/harbor/"));
      stub.respond(
          r ->
              new Answer(
                  200,
                  Map.of(),
                  r.path().endsWith("/v2/") ? "" : "{\"harbor_version\":\"v2.15.2\"}"));

      prefixed.systemInfo();
      assertThat(prefixed.registryLoginSucceeds("robot$p+ci", RobotSecret.of("Abc12345"))).isTrue();

      assertThat(stub.requests.get(0).path()).isEqualTo("/harbor/api/v2.0/systeminfo");
      HarborStub.Received login = stub.requests.get(1);
      assertThat(login.path()).isEqualTo("/harbor/v2/");
      assertThat(login.header("Authorization"))
          .isEqualTo(
              "Basic "
                  + java.util.Base64.getEncoder()
                      .encodeToString("robot$p+ci:Abc12345".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void registryLoginIsFalseOn401() {
      stub.respond(r -> new Answer(401, Map.of("WWW-Authenticate", "Basic realm=\"harbor\""), ""));
      assertThat(client.registryLoginSucceeds("robot$x", RobotSecret.of("Abc12345"))).isFalse();
      assertThat(stub.requests.get(0).path()).isEqualTo("/v2/");
    }

    @Test
    void registryLoginOtherThan200Or401IsAnError() {
      stub.respond(r -> new Answer(503, Map.of(), ""));
      harborFailure(
          () -> client.registryLoginSucceeds("robot$x", RobotSecret.of("Abc12345")),
          Kind.SERVER_ERROR);
    }

    @Test
    void aReadTimeoutAfterSendingIsOutcomeUnknownForPostAndUnreachableOtherwiseAfterRetries()
        throws Exception {
      CountDownLatch release = new CountDownLatch(1);
      stub.respond(
          r -> {
            try {
              release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            return Answer.json(200, "{}");
          });
      try (OkHttpHarborClientFactory impatient = impatientFactory(Duration.ofMillis(300))) {
        HarborClient hurried = impatient.create(endpoint(stub.url()));

        harborFailure(() -> hurried.createRobot(projectRobot("p", "ci")), Kind.OUTCOME_UNKNOWN);
        harborFailure(() -> hurried.deleteRobot(1), Kind.UNREACHABLE);
        harborFailure(() -> hurried.setRobotSecret(1, RobotSecret.generate()), Kind.UNREACHABLE);
      } finally {
        release.countDown();
      }
      // the POST once; DELETE and PATCH (with its caller-chosen secret) as often as the policy
      // allows
      assertThat(stub.requests)
          .extracting(HarborStub.Received::method)
          .containsExactly(
              "POST", "DELETE", "DELETE", "DELETE", "DELETE", "PATCH", "PATCH", "PATCH", "PATCH");
    }
  }

  @Test
  void aRefusedConnectionIsUnreachableEvenForPost() throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    HarborClient client = factory.create(endpoint("http://127.0.0.1:" + port));

    HarborException e =
        harborFailure(() -> client.createRobot(projectRobot("p", "ci")), Kind.UNREACHABLE);

    assertThat(e.httpStatus()).isZero();
    assertThat(e.getCause()).isInstanceOf(IOException.class);
    harborFailure(client::systemInfo, Kind.UNREACHABLE);
  }

  @Test
  void anUnknownHostIsUnreachable() {
    HarborClient client = factory.create(endpoint("https://harbor.invalid"));
    harborFailure(() -> client.createRobot(projectRobot("p", "ci")), Kind.UNREACHABLE);
  }

  @Test
  void badBaseUrlsAreRefusedWithoutBeingEchoed() {
    for (String url :
        List.of(
            "harbor.example.com",
            "ftp://x",
            "https://user:pw123@harbor.example.com",
            "https://h?x=1")) {
      assertThatThrownBy(() -> factory.create(endpoint(url)))
          .isInstanceOf(IllegalArgumentException.class)
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("pw123"));
    }
  }

  // =============================================================================================
  // TLS
  // =============================================================================================

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class Tls {

    private SSLContext serverContext;
    private String serverCertPem;
    private String otherCertPem;
    private HarborStub stub;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
      Path serverStore = keytool(dir, "server", "CN=localhost", "dns:localhost");
      Path otherStore = keytool(dir, "other", "CN=someone-else", "dns:localhost");
      serverCertPem = exportPem(dir, serverStore, "server");
      otherCertPem = exportPem(dir, otherStore, "other");
      KeyStore keyStore = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(serverStore)) {
        keyStore.load(in, "changeit".toCharArray());
      }
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keyStore, "changeit".toCharArray());
      serverContext = SSLContext.getInstance("TLS");
      serverContext.init(kmf.getKeyManagers(), null, null);
      stub = HarborStub.https(serverContext);
      stub.respond(r -> Answer.json(200, "{\"harbor_version\":\"v2.15.2\"}"));
    }

    @AfterAll
    void stop() {
      stub.close();
    }

    private HarborClient client(String caBundle, boolean insecure) {
      return client("localhost", caBundle, insecure);
    }

    private HarborClient client(String host, String caBundle, boolean insecure) {
      return factory.create(
          new HarborEndpoint(
              "https://" + host + ":" + stub.port(),
              ADMIN,
              RobotSecret.of(PASSWORD),
              caBundle,
              insecure));
    }

    @Test
    void theCaBundleIsTrusted() {
      assertThat(client(serverCertPem, false).systemInfo().harborVersion()).isEqualTo("v2.15.2");
      // with comments around and another certificate before it, as CA bundle files have
      String bundle = "# other\n" + otherCertPem + "\n# ours\n" + serverCertPem + "\n";
      assertThat(client(bundle, false).systemInfo().harborVersion()).isEqualTo("v2.15.2");
    }

    @Test
    void withoutTheBundleOrWithAnotherOneTheServerIsRefused() {
      int before = stub.requests.size();
      harborFailure(() -> client(null, false).systemInfo(), Kind.UNREACHABLE);
      harborFailure(() -> client(otherCertPem, false).systemInfo(), Kind.UNREACHABLE);
      // a handshake failure means nothing was sent, so even a create is plainly unreachable
      harborFailure(
          () -> client(otherCertPem, false).createRobot(projectRobot("p", "ci")), Kind.UNREACHABLE);
      assertThat(stub.requests).hasSize(before);
    }

    @Test
    void theHostNameIsStillVerifiedWithABundle() {
      // the certificate names localhost only
      HarborException e =
          harborFailure(
              () -> client("127.0.0.1", serverCertPem, false).systemInfo(), Kind.UNREACHABLE);
      assertThat(e.getCause()).isInstanceOf(javax.net.ssl.SSLPeerUnverifiedException.class);
    }

    @Test
    void insecureSkipsVerification() {
      assertThat(client(null, true).systemInfo().harborVersion()).isEqualTo("v2.15.2");
      assertThat(client(otherCertPem, true).systemInfo().harborVersion()).isEqualTo("v2.15.2");
      assertThat(client("127.0.0.1", null, true).systemInfo().harborVersion()).isEqualTo("v2.15.2");
    }

    @Test
    void anInvalidBundleIsAClearErrorThatDoesNotEchoIt() {
      String notACert =
          "-----BEGIN CERTIFICATE-----\nTUlJQm5vdGFjZXJ0aWZpY2F0ZQ==\n-----END CERTIFICATE-----\n";
      assertThatThrownBy(() -> client(notACert, false))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("certificate #1")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("TUlJQm5vdGFj"));
      assertThatThrownBy(() -> client("just some text", false))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("no PEM certificate")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("just some text"));
      String truncated = serverCertPem.substring(0, serverCertPem.indexOf("-----END"));
      assertThatThrownBy(() -> client(serverCertPem + truncated, false))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  private static Path keytool(Path dir, String alias, String dname, String san) throws Exception {
    Path store = dir.resolve(alias + ".p12");
    run(
        keytoolBinary(),
        "-genkeypair",
        "-alias",
        alias,
        "-keyalg",
        "EC",
        "-groupname",
        "secp256r1",
        "-dname",
        dname,
        "-ext",
        "SAN=" + san,
        "-validity",
        "2",
        "-storetype",
        "PKCS12",
        "-keystore",
        store.toString(),
        "-storepass",
        "changeit",
        "-keypass",
        "changeit");
    return store;
  }

  private static String exportPem(Path dir, Path store, String alias) throws Exception {
    Path pem = dir.resolve(alias + ".pem");
    run(
        keytoolBinary(),
        "-exportcert",
        "-rfc",
        "-alias",
        alias,
        "-keystore",
        store.toString(),
        "-storepass",
        "changeit",
        "-file",
        pem.toString());
    return Files.readString(pem);
  }

  private static String keytoolBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
  }

  private static void run(String... command) throws Exception {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(output).isZero();
  }
}
