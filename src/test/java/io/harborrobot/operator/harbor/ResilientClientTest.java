package io.harborrobot.operator.harbor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.harborrobot.operator.harbor.HarborException.Kind;
import io.harborrobot.operator.harbor.HarborStub.Answer;
import io.harborrobot.operator.sandbox.HarborEmulator;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Retries, backoff, Retry-After, login lockout, per-connection rate limit and concurrency cap, and
 * metrics of the Harbor client, mostly against the Harbor emulator. Backoff and lockout waits go
 * through a {@link FakeTime} that records them and moves a clock instead of sleeping; the rate
 * limit and the concurrency cap are measured in real time at the emulator.
 */
class ResilientClientTest {

  private static final String ADMIN = "admin";
  private static final String PASSWORD = "Harbor12345";
  private static final String CONNECTION = "HarborConnection/team-a/harbor";

  private HarborEmulator harbor;
  private FakeTime time;
  private PrometheusMeterRegistry registry;
  private OkHttpHarborClientFactory factory;
  private HarborClient client;

  /** A {@link Sleeper} that only records the waits and moves its clock by them. */
  static final class FakeTime implements Sleeper {
    private final AtomicLong nowMillis = new AtomicLong(System.currentTimeMillis());
    final List<Duration> sleeps = new CopyOnWriteArrayList<>();
    private volatile Consumer<Duration> onSleep = d -> {};

    @Override
    public void sleep(Duration duration) {
      sleeps.add(duration);
      nowMillis.addAndGet(duration.toMillis());
      onSleep.accept(duration);
    }

    Clock clock() {
      return new Clock() {
        @Override
        public ZoneId getZone() {
          return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
          return this;
        }

        @Override
        public Instant instant() {
          return Instant.ofEpochMilli(nowMillis.get());
        }
      };
    }
  }

  @BeforeEach
  void start() {
    harbor = HarborEmulator.start();
    time = new FakeTime();
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    factory = new OkHttpHarborClientFactory(settings(), registry);
    client = factory.create(endpoint(PASSWORD, 1000, 8));
  }

  @AfterEach
  void stop() {
    factory.close();
    harbor.close();
  }

  private ClientSettings settings() {
    return ClientSettings.defaults()
        // generous: a request that times out is abandoned while Harbor still serves it, which
        // would blur what the emulator measures (the timeouts themselves are
        // OkHttpHarborClientTest's)
        .withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(20))
        .withTime(time, time.clock());
  }

  private HarborEndpoint endpoint(String password, double requestsPerSecond, int maxConcurrent) {
    return new HarborEndpoint(
        CONNECTION,
        harbor.baseUrl(),
        ADMIN,
        RobotSecret.of(password),
        null,
        false,
        requestsPerSecond,
        maxConcurrent);
  }

  private static HarborException failure(Runnable call, Kind kind) {
    HarborException e = catchThrowableOfType(HarborException.class, call::run);
    assertThat(e).as("expected a HarborException of kind " + kind).isNotNull();
    assertThat(e.kind()).as(e.getMessage()).isEqualTo(kind);
    assertThat(e.getMessage()).doesNotContain(PASSWORD);
    return e;
  }

  private int requests(String route) {
    return harbor.requestCountsByRoute().getOrDefault(route, 0);
  }

  private RobotCreated createRobot(String project, String name) {
    harbor.createProject(project);
    return client.createRobot(
        new RobotCreate(
            name,
            "made by a test",
            "project",
            30,
            List.of(
                new RobotPermission(
                    "project", project, List.of(Access.allow("repository", "pull"))))));
  }

  private double retries(String method, String route, String reason) {
    Counter counter =
        registry
            .find(ClientMetrics.RETRIES)
            .tags("connection", CONNECTION, "method", method, "route", route, "reason", reason)
            .counter();
    return counter == null ? 0 : counter.count();
  }

  // =============================================================================================
  // Retries
  // =============================================================================================

  @Test
  void aGetIsRepeatedAfter503And500AndAResetConnection() {
    RobotCreated created = createRobot("team-a", "ci");
    harbor.failNext("GET", "/api/v2.0/robots/\\d+", 503);
    harbor.failNext("GET", "/api/v2.0/robots/\\d+", 500);
    harbor.loseResponseNext("GET", "/api/v2.0/robots/\\d+");

    assertThat(client.getRobot(created.id())).isPresent();

    assertThat(requests("GET /api/v2.0/robots/{id}")).isEqualTo(4);
    // full jitter: each wait is at most the exponential ceiling 200 ms, 400 ms, 800 ms
    assertThat(time.sleeps).hasSize(3);
    for (int i = 0; i < 3; i++) {
      assertThat(time.sleeps.get(i)).isBetween(Duration.ZERO, Duration.ofMillis(200L << i));
    }
    assertThat(retries("GET", "/api/v2.0/robots/{id}", "server_error")).isEqualTo(2);
    assertThat(retries("GET", "/api/v2.0/robots/{id}", "unreachable")).isEqualTo(1);
  }

  @Test
  void theNumberOfAttemptsIsBounded() {
    harbor.failNext("GET", "/api/v2.0/systeminfo", 502, 10);

    HarborException e = failure(client::systemInfo, Kind.SERVER_ERROR);

    assertThat(e.httpStatus()).isEqualTo(502);
    assertThat(requests("GET /api/v2.0/systeminfo")).isEqualTo(4);
    assertThat(harbor.pendingFaults()).isEqualTo(6);
    assertThat(time.sleeps).hasSize(3);
  }

  @Test
  void backoffGrowsExponentiallyWithFullJitterUpToTheCap() {
    RetryPolicy policy = RetryPolicy.DEFAULT;
    assertThat(policy.ceiling(1)).isEqualTo(Duration.ofMillis(200));
    assertThat(policy.ceiling(2)).isEqualTo(Duration.ofMillis(400));
    assertThat(policy.ceiling(3)).isEqualTo(Duration.ofMillis(800));
    assertThat(policy.ceiling(10)).isEqualTo(Duration.ofSeconds(5));
    List<Duration> waits = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      waits.add(policy.backoff(3));
    }
    assertThat(waits).allSatisfy(d -> assertThat(d).isBetween(Duration.ZERO, policy.ceiling(3)));
    assertThat(waits.stream().distinct().count()).as("jittered").isGreaterThan(10);
  }

  @Test
  void retryAfterIsWaitedInsteadOfTheBackoff() {
    harbor.failNext("GET", "/api/v2.0/systeminfo", 429, 1, Duration.ofSeconds(3));
    harbor.failNext("GET", "/api/v2.0/systeminfo", 503, 1, Duration.ofSeconds(2));

    assertThat(client.systemInfo().harborVersion()).startsWith("v2.");

    assertThat(time.sleeps).containsExactly(Duration.ofSeconds(3), Duration.ofSeconds(2));
    assertThat(retries("GET", "/api/v2.0/systeminfo", "rate_limited")).isEqualTo(1);
    assertThat(retries("GET", "/api/v2.0/systeminfo", "server_error")).isEqualTo(1);
  }

  @Test
  void aRetryAfterLongerThanTheCallMayWaitGoesToTheCaller() {
    harbor.failNext("GET", "/api/v2.0/systeminfo", 503, 1, Duration.ofSeconds(30));

    HarborException e = failure(client::systemInfo, Kind.SERVER_ERROR);

    assertThat(e.retryAfter()).contains(Duration.ofSeconds(30));
    assertThat(requests("GET /api/v2.0/systeminfo")).isEqualTo(1);
    assertThat(time.sleeps).isEmpty();

    harbor.failNext("GET", "/api/v2.0/systeminfo", 429, 1, Duration.ofSeconds(11));
    assertThat(failure(client::systemInfo, Kind.RATE_LIMITED).retryAfter())
        .contains(Duration.ofSeconds(11));
    assertThat(requests("GET /api/v2.0/systeminfo")).isEqualTo(2);
  }

  @Test
  void aPostIsNeverRepeated() {
    harbor.createProject("team-a");
    RobotCreate robot =
        new RobotCreate(
            "ci",
            "",
            "project",
            30,
            List.of(
                new RobotPermission(
                    "project", "team-a", List.of(Access.allow("repository", "pull")))));

    harbor.failNext("POST", "/api/v2.0/robots", 503, 4);
    failure(() -> client.createRobot(robot), Kind.SERVER_ERROR);
    assertThat(requests("POST /api/v2.0/robots")).isEqualTo(1);

    harbor.clearFaults();
    harbor.failNext("POST", "/api/v2.0/robots", 429, 4, Duration.ofSeconds(1));
    failure(() -> client.createRobot(robot), Kind.RATE_LIMITED);
    assertThat(requests("POST /api/v2.0/robots")).isEqualTo(2);

    // OkHttp on its own would send a request again after a 503 with Retry-After: 0.
    harbor.clearFaults();
    harbor.failNext("POST", "/api/v2.0/robots", 503, 4, Duration.ZERO);
    failure(() -> client.createRobot(robot), Kind.SERVER_ERROR);
    assertThat(requests("POST /api/v2.0/robots")).isEqualTo(3);

    harbor.clearFaults();
    harbor.loseResponseNext("POST", "/api/v2.0/robots");
    failure(() -> client.createRobot(robot), Kind.OUTCOME_UNKNOWN);
    assertThat(requests("POST /api/v2.0/robots")).isEqualTo(4);
    assertThat(harbor.robots()).hasSize(1);

    assertThat(time.sleeps).isEmpty();
    assertThat(registry.find(ClientMetrics.RETRIES).counters()).isEmpty();
  }

  @Test
  void putPatchAndDeleteAreRepeated() {
    RobotCreated created = createRobot("team-a", "ci");
    Robot current = client.getRobot(created.id()).orElseThrow();

    harbor.loseResponseNext("PUT", "/api/v2.0/robots/\\d+");
    client.updateRobot(current.withDescription("second try"));
    assertThat(harbor.robot(created.id()).orElseThrow().description()).isEqualTo("second try");
    assertThat(requests("PUT /api/v2.0/robots/{id}")).isEqualTo(2);

    RobotSecret secret = RobotSecret.generate();
    harbor.failNext("PATCH", "/api/v2.0/robots/\\d+", 502);
    client.setRobotSecret(created.id(), secret);
    assertThat(harbor.credentialsWork(created.name(), secret.reveal())).isTrue();
    assertThat(requests("PATCH /api/v2.0/robots/{id}")).isEqualTo(2);

    // the lost DELETE was applied: the repetition finds the robot gone, which is success
    harbor.loseResponseNext("DELETE", "/api/v2.0/robots/\\d+");
    assertThat(client.deleteRobot(created.id())).isFalse();
    assertThat(harbor.robots()).isEmpty();
    assertThat(requests("DELETE /api/v2.0/robots/{id}")).isEqualTo(2);
  }

  @Test
  void otherClientErrorsAreNotRepeated() {
    RobotCreated created = createRobot("team-a", "ci");
    Robot current = client.getRobot(created.id()).orElseThrow();
    int gets = requests("GET /api/v2.0/robots/{id}");

    for (int status : List.of(400, 403, 404, 409, 422)) {
      harbor.failNext("GET", "/api/v2.0/robots/\\d+", status);
      catchThrowableOfType(HarborException.class, () -> client.getRobot(created.id()));
    }
    assertThat(requests("GET /api/v2.0/robots/{id}")).isEqualTo(gets + 5);

    harbor.setReadOnly(true);
    HarborException readOnly =
        failure(() -> client.updateRobot(current.withDescription("x")), Kind.READ_ONLY);
    assertThat(readOnly.httpStatus()).isEqualTo(403);
    assertThat(requests("PUT /api/v2.0/robots/{id}")).isEqualTo(1);
    assertThat(client.getRobot(created.id())).isPresent();
    assertThat(time.sleeps).isEmpty();
  }

  // =============================================================================================
  // Login lockout
  // =============================================================================================

  @Test
  void after401EveryClientOfTheConnectionWaitsOutHarborsLockout() {
    harbor.setLoginLockout(Duration.ofMillis(1500));
    harbor.setClock(time.clock());
    HarborClient wrong = factory.create(endpoint("Wr0ngPassw0rd", 1000, 8));

    HarborException e = failure(() -> wrong.getRobot(1), Kind.UNAUTHORIZED);
    assertThat(e.getMessage()).doesNotContain("Wr0ngPassw0rd");
    assertThat(requests("GET /api/v2.0/robots/{id}")).isEqualTo(1);
    assertThat(time.sleeps).as("a 401 is not retried").isEmpty();
    assertThat(harbor.isLockedOut(ADMIN)).isTrue();

    // the right password, from a client re-created for the same connection: sending now would
    // fail in Harbor's lockout, so it waits first
    HarborClient fixed = factory.create(endpoint(PASSWORD, 1000, 8));
    assertThat(fixed.systemInfo().harborVersion()).startsWith("v2.");

    assertThat(time.sleeps)
        .singleElement()
        .satisfies(d -> assertThat(d).isBetween(Duration.ofMillis(1500), Duration.ofMillis(1750)));
    assertThat(time.sleeps).noneMatch(d -> d.compareTo(Duration.ofMillis(1500)) < 0);
    assertThat(fixed.systemInfo()).isNotNull();
    assertThat(time.sleeps).hasSize(1);
    assertThat(
            registry
                .find(ClientMetrics.THROTTLED)
                .tags("connection", CONNECTION, "limiter", "login_lockout")
                .counter()
                .count())
        .isEqualTo(1);
  }

  @Test
  void aFailedRegistryLoginLocksOnlyThatRobotsName() {
    RobotCreated created = createRobot("team-a", "ci");

    assertThat(client.registryLoginSucceeds(created.name(), RobotSecret.of("Wr0ngSecret1")))
        .isFalse();
    assertThat(time.sleeps).isEmpty();

    client.systemInfo();
    client.registryLoginSucceeds("robot$team-a+other", RobotSecret.of("Wr0ngSecret1"));
    assertThat(time.sleeps).as("admin and other robots are not held back").isEmpty();

    assertThat(client.registryLoginSucceeds(created.name(), created.secret())).isTrue();
    assertThat(time.sleeps)
        .singleElement()
        .satisfies(d -> assertThat(d).isGreaterThanOrEqualTo(Duration.ofMillis(1500)));
  }

  // =============================================================================================
  // Per-connection rate limit and concurrency cap, shared by all clients of the connection
  // =============================================================================================

  @Test
  void theRateLimitHoldsAtHarborAcrossClientsOfOneConnection() throws Exception {
    int perSecond = 20;
    List<HarborClient> clients = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      clients.add(factory.create(endpoint(PASSWORD, perSecond, 8)));
    }
    harbor.reset();

    runConcurrently(8, 5, clients, c -> c.findProject("nope"));

    List<Instant> times = harbor.requestTimes();
    assertThat(times).hasSize(40);
    // requests leave at least 1/R s apart: no second at Harbor holds more than R
    assertThat(harbor.maxRequestsInAnyWindow(Duration.ofSeconds(1))).isLessThanOrEqualTo(perSecond);
    Duration span = Duration.between(times.get(0), times.get(times.size() - 1));
    assertThat(span).isGreaterThan(Duration.ofMillis(1500));
    assertThat(
            registry
                .find(ClientMetrics.THROTTLED)
                .tags("connection", CONNECTION, "limiter", "rate")
                .counter()
                .count())
        .isPositive();
  }

  @Test
  void aLoneSequentialCallerIsNotSlowedMoreThanTheRate() {
    HarborClient paced = factory.create(endpoint(PASSWORD, 10, 1));
    harbor.reset();

    for (int i = 0; i < 12; i++) {
      paced.findProject("nope");
    }

    List<Instant> times = harbor.requestTimes();
    assertThat(harbor.maxRequestsInAnyWindow(Duration.ofSeconds(1))).isLessThanOrEqualTo(10);
    // about 11 intervals of 105 ms, plus the one interval given up after the first request
    assertThat(Duration.between(times.get(0), times.get(times.size() - 1)))
        .isBetween(Duration.ofMillis(1100), Duration.ofMillis(2000));
  }

  @Test
  void anotherConnectionHasItsOwnBudget() {
    HarborClient teamA = factory.create(endpoint(PASSWORD, 1, 1));
    HarborClient teamB =
        factory.create(
            new HarborEndpoint(
                "HarborConnection/team-b/harbor",
                harbor.baseUrl(),
                ADMIN,
                RobotSecret.of(PASSWORD),
                null,
                false,
                1,
                1));
    teamA.findProject("nope");

    long start = System.nanoTime();
    teamB.findProject("nope");

    // team-a has used its one permit of this second; team-b does not wait for the next one
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(500));
  }

  @Test
  void theConcurrencyCapHoldsAtHarborAcrossClientsOfOneConnection() throws Exception {
    List<HarborClient> clients = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      clients.add(factory.create(endpoint(PASSWORD, 1000, 3)));
    }
    harbor.reset();
    harbor.setLatency(Duration.ofMillis(60));

    runConcurrently(12, 3, clients, c -> c.findProject("nope"));

    assertThat(harbor.requestCount()).as("no attempt was abandoned and repeated").isEqualTo(36);
    assertThat(harbor.maxConcurrentRequests()).isBetween(2, 3);
  }

  @Test
  void aRequestThatTimedOutKeepsItsSlotWhileHarborMayStillBeWorkingOnIt() throws Exception {
    // Harbor takes 900 ms; the client gives up after 500 ms and tries again. Without holding the
    // slot of the abandoned request, the retries would pile up at a slow Harbor beyond the cap.
    OkHttpHarborClientFactory impatient =
        new OkHttpHarborClientFactory(
            settings()
                .withTimeouts(Duration.ofSeconds(5), Duration.ofMillis(500), Duration.ofSeconds(5))
                .withTime(Sleeper.SYSTEM, java.time.Clock.systemUTC()),
            registry);
    try {
      List<HarborClient> clients = List.of(impatient.create(endpoint(PASSWORD, 1000, 2)));
      harbor.reset();
      harbor.setLatency(Duration.ofMillis(900));

      runConcurrently(
          4,
          1,
          clients,
          c ->
              assertThat(catchThrowableOfType(HarborException.class, () -> c.findProject("nope")))
                  .isNotNull());

      assertThat(harbor.maxConcurrentRequests()).as("in flight at Harbor").isLessThanOrEqualTo(2);
    } finally {
      impatient.close();
    }
  }

  @Test
  void newLimitsForAConnectionApplyToAllItsClients() {
    ConnectionGuard first = factory.guardFor(endpoint(PASSWORD, 5, 1));
    HarborClient old = factory.create(endpoint(PASSWORD, 5, 1));
    ConnectionGuard.Limits before = first.limits();

    factory.create(endpoint(PASSWORD, 50, 4));

    ConnectionGuard now = factory.guardFor(endpoint(PASSWORD, 50, 4));
    assertThat(now).isSameAs(first);
    assertThat(now.limits()).isNotSameAs(before);
    assertThat(now.limits().maxConcurrentRequests()).isEqualTo(4);
    assertThat(now.limits().requestsPerSecond()).isEqualTo(50);
    assertThat(factory.guardFor(endpoint(PASSWORD, 50, 4)).limits()).isSameAs(now.limits());
    assertThat(old.systemInfo()).isNotNull();
  }

  @Test
  void noSlotIsHeldWhileWaitingToRetry() throws Exception {
    HarborClient single = factory.create(endpoint(PASSWORD, 1000, 1));
    HarborClient second = factory.create(endpoint(PASSWORD, 1000, 1));
    harbor.failNext("GET", "/api/v2.0/systeminfo", 503);
    List<Object> duringBackoff = new CopyOnWriteArrayList<>();
    time.onSleep =
        d -> {
          // the only slot of the connection must be free while the first call waits
          try {
            duringBackoff.add(
                CompletableFuture.supplyAsync(() -> second.findProject("nope"))
                    .get(5, TimeUnit.SECONDS));
          } catch (Exception e) {
            duringBackoff.add(e);
          }
        };

    assertThat(single.systemInfo()).isNotNull();

    assertThat(duringBackoff).singleElement().isEqualTo(java.util.Optional.empty());
  }

  @Test
  void aCallThatCannotGetASlotInTimeFailsWithoutBeingSentEvenAPost() throws Exception {
    try (HarborStub stub = HarborStub.http();
        OkHttpHarborClientFactory queueing =
            new OkHttpHarborClientFactory(
                settings().withMaxQueueWait(Duration.ofMillis(100)), registry)) {
      CountDownLatch release = new CountDownLatch(1);
      CountDownLatch arrived = new CountDownLatch(1);
      stub.respond(
          r -> {
            arrived.countDown();
            try {
              release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            return Answer.json(200, "{\"harbor_version\":\"v2.15.2\"}");
          });
      HarborEndpoint one =
          new HarborEndpoint(
              "stub", stub.url(), ADMIN, RobotSecret.of(PASSWORD), null, false, 1000, 1);
      HarborClient a = queueing.create(one);
      HarborClient b = queueing.create(one);
      ExecutorService pool = Executors.newSingleThreadExecutor();
      try {
        Future<SystemInfo> holding = pool.submit(a::systemInfo);
        assertThat(arrived.await(5, TimeUnit.SECONDS)).isTrue();

        HarborException e =
            failure(
                () ->
                    b.createRobot(
                        new RobotCreate(
                            "ci",
                            "",
                            "project",
                            30,
                            List.of(
                                new RobotPermission(
                                    "project", "p", List.of(Access.allow("repository", "pull")))))),
                Kind.RATE_LIMITED);
        assertThat(e.httpStatus()).isZero();
        assertThat(e.retryAfter()).isPresent();
        release.countDown();
        assertThat(holding.get(5, TimeUnit.SECONDS).harborVersion()).isEqualTo("v2.15.2");
      } finally {
        release.countDown();
        pool.shutdownNow();
      }
      assertThat(stub.requests).extracting(HarborStub.Received::method).containsExactly("GET");
    }
  }

  private static void runConcurrently(
      int threads, int callsEach, List<HarborClient> clients, Consumer<HarborClient> call)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        HarborClient c = clients.get(t % clients.size());
        done.add(
            pool.submit(
                () -> {
                  go.await();
                  for (int i = 0; i < callsEach; i++) {
                    call.accept(c);
                  }
                  return null;
                }));
      }
      go.countDown();
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  // =============================================================================================
  // Metrics
  // =============================================================================================

  @Test
  void requestsAreTimedByConnectionMethodRouteAndStatusWithoutNamesOrIds() {
    RobotCreated created = createRobot("proj-kiwi", "zebra-robot");
    long projectId = client.findProject("proj-kiwi").orElseThrow().projectId();
    client.findProjectRobot(new Project(projectId, "proj-kiwi"), "zebra-robot");
    client.getRobot(created.id());
    harbor.failNext("GET", "/api/v2.0/robots/\\d+", 503);
    client.getRobot(created.id());
    harbor.loseResponseNext("GET", "/api/v2.0/robots/\\d+");
    client.getRobot(created.id());
    client.getRobot(987654);
    client.registryLoginSucceeds(created.name(), created.secret());

    Timer ok =
        registry
            .find(ClientMetrics.REQUESTS)
            .tags(
                "connection",
                CONNECTION,
                "method",
                "GET",
                "route",
                "/api/v2.0/robots/{id}",
                "status",
                "200")
            .timer();
    assertThat(ok).isNotNull();
    assertThat(ok.count()).isEqualTo(3);
    assertThat(ok.takeSnapshot().histogramCounts()).as("histogram buckets").isNotEmpty();
    assertThat(registry.scrape())
        .contains(
            "harbor_client_requests_seconds_bucket{connection=\"" + CONNECTION + "\"",
            "harbor_client_retries_total{");
    Map<String, Long> byStatus = Map.of("503", 1L, ClientMetrics.IO_ERROR, 1L, "404", 1L);
    byStatus.forEach(
        (status, count) ->
            assertThat(
                    registry
                        .find(ClientMetrics.REQUESTS)
                        .tags("route", "/api/v2.0/robots/{id}", "status", status)
                        .timer()
                        .count())
                .as(status)
                .isEqualTo(count));
    assertThat(
            registry
                .find(ClientMetrics.REQUESTS)
                .tags("method", "POST", "route", "/api/v2.0/robots", "status", "201")
                .timer()
                .count())
        .isEqualTo(1);
    assertThat(
            registry
                .find(ClientMetrics.REQUESTS)
                .tags("route", "/api/v2.0/projects/{name}", "status", "200")
                .timer()
                .count())
        .isEqualTo(1);
    assertThat(registry.find(ClientMetrics.REQUESTS).tags("route", "/v2/").timer().count())
        .isEqualTo(1);
    assertThat(retries("GET", "/api/v2.0/robots/{id}", "server_error")).isEqualTo(1);
    assertThat(retries("GET", "/api/v2.0/robots/{id}", "unreachable")).isEqualTo(1);

    for (Meter meter : registry.getMeters()) {
      for (Tag tag : meter.getId().getTags()) {
        assertThat(tag.getValue())
            .as(meter.getId().toString())
            .doesNotContain("kiwi", "zebra", "987654", PASSWORD)
            .doesNotContainPattern("/\\d")
            .isNotEqualTo(Long.toString(created.id()));
      }
    }
  }
}
