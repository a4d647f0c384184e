package io.harborrobot.operator.harbor;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.github.resilience4j.core.functions.Either;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.CookieJar;
import okhttp3.Credentials;
import okhttp3.Headers;
import okhttp3.HttpUrl;
import okhttp3.Interceptor;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.BufferedSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link HarborClient} over OkHttp, following shared/harbor/ROBOT_API.md. Build it with {@link
 * OkHttpHarborClientFactory}. Thread-safe.
 *
 * <p>Transport rules, whatever client it is handed: no cookie jar (a replayed {@code sid} cookie
 * turns on Harbor's CSRF check and every change fails with 403), no silent retry on a failed
 * connection inside OkHttp (it would resend a POST on a stale pooled connection and could create a
 * duplicate), no redirects (a POST redirected from http to https would come back as a GET), HTTP
 * Basic sent pre-emptively (Harbor's API 401s carry no challenge) and a fresh {@code X-Request-Id}
 * on every request sent.
 *
 * <p>Faults ({@link RetryPolicy}, through resilience4j's {@link Retry}): GET, PUT, PATCH (always
 * with a caller-chosen secret) and DELETE are repeated after no answer, 5xx or 429, with
 * exponential backoff and full jitter, or after Harbor's {@code Retry-After} when it is short
 * enough; a DELETE whose repetition finds the robot gone returns {@code false}. A POST is sent
 * once: a failure keeps its kind ({@link HarborException.Kind#OUTCOME_UNKNOWN} when it may have
 * been applied) and the caller looks the robot up. A 401 is never repeated; the username is
 * remembered as locked (Harbor locks it for 1.5 s) and every call of the connection with that
 * username waits until the lock is over before it is sent.
 *
 * <p>Every request sent, retries, list pages and the registry login check included, takes a slot of
 * its connection's concurrency cap and a permit of its rate limit ({@link ConnectionGuard}, shared
 * by all clients of the connection). It holds the slot only while in flight, never while it waits
 * to be retried.
 *
 * <p>Nothing secret is logged, put in an exception or in a metric: log lines and messages hold the
 * method, the route template, the status, Harbor's message and the request id, never a body or a
 * header; metrics are tagged with the connection, method, route template and status only.
 */
public final class OkHttpHarborClient implements HarborClient {

  private static final Logger LOG = LoggerFactory.getLogger(OkHttpHarborClient.class);

  /** Harbor's maximum page size for lists. */
  static final int PAGE_SIZE = 100;

  /** A stop for a list that never ends (a misbehaving proxy): 100 000 robots in one project. */
  static final int MAX_PAGES = 1000;

  /** Success bodies larger than this are refused; a page of 100 robots is far below. */
  static final long MAX_BODY_BYTES = 16L * 1024 * 1024;

  /**
   * Harbor's robot name rule (ROBOT_API.md §2.1): lowercase letters and digits with single {@code
   * .}, {@code _} or {@code -} separators. In particular no {@code +} and no {@code %}.
   */
  static final Pattern ROBOT_NAME = Pattern.compile("^[a-z0-9]+(?:[._-][a-z0-9]+)*$");

  private static final MediaType JSON = MediaType.get("application/json");
  private static final Pattern LINK_REL =
      Pattern.compile("<[^>]*>\\s*;[^,]*?\\brel\\s*=\\s*\"?([^\";,]+)\"?");

  static final String ROUTE_SYSTEMINFO = "/api/v2.0/systeminfo";
  static final String ROUTE_PROJECT = "/api/v2.0/projects/{name}";
  static final String ROUTE_ROBOTS = "/api/v2.0/robots";
  static final String ROUTE_ROBOT = "/api/v2.0/robots/{id}";
  static final String ROUTE_REGISTRY = "/v2/";

  /** Marks, per call, whether OkHttp got as far as writing the request. */
  private static final class Attempt {
    private volatile boolean mayHaveBeenSent;
  }

  /**
   * A network interceptor runs once a connection (and its TLS handshake) is established, right
   * before the request is written. Before that point nothing can have reached Harbor.
   */
  private static final Interceptor TRACK_SENDING =
      chain -> {
        Attempt attempt = chain.request().tag(Attempt.class);
        if (attempt != null) {
          attempt.mayHaveBeenSent = true;
        }
        return chain.proceed(chain.request());
      };

  /**
   * OkHttp itself sends any request again, POST included, when a 503 says {@code Retry-After: 0}
   * (RetryAndFollowUpInterceptor). Moving the header out of its sight keeps every repeat in this
   * client's hands; {@link HarborErrors#retryAfter} reads it under its new name.
   */
  private static final Interceptor HIDE_RETRY_AFTER_FROM_OKHTTP =
      chain -> {
        Response response = chain.proceed(chain.request());
        String retryAfter = response.header("Retry-After");
        if (response.code() != 503 || retryAfter == null) {
          return response;
        }
        return response
            .newBuilder()
            .removeHeader("Retry-After")
            .header(HarborErrors.RETRY_AFTER_MOVED, retryAfter)
            .build();
      };

  /** Gives back the slots of requests that timed out, a read timeout later. */
  private static final ScheduledExecutorService SLOT_RELEASER =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread thread = new Thread(r, "harbor-slot-releaser");
            thread.setDaemon(true);
            return thread;
          });

  /** The methods that are safe to send again (PATCH only ever with a caller-chosen secret). */
  private static final Set<String> REPEATABLE = Set.of("GET", "PUT", "PATCH", "DELETE");

  /** A wait for a client-side limit shorter than this is not counted as throttling. */
  private static final long THROTTLE_NOTICE_NANOS = 1_000_000;

  private final OkHttpClient http;
  private final HttpUrl baseUrl;
  private final HarborEndpoint endpoint;
  private final Login admin;
  private final ObjectMapper mapper;
  private final JavaType robotList;
  private final ConnectionGuard guard;
  private final ClientMetrics metrics;
  private final Duration readTimeout;
  private final RetryPolicy policy;
  private final Sleeper sleeper;
  private final Retry retry;

  /** Who a request is sent as: the username is what Harbor locks after a failed login. */
  private record Login(String username, String authorization) {
    @Override
    public String toString() {
      return "Login[" + username + "]";
    }
  }

  /**
   * @param http the client to derive from (pool, dispatcher, timeouts, TLS); the transport rules in
   *     the class comment are applied on top of it
   * @param baseUrl the endpoint's base URL, parsed
   * @param guard the limits shared by every client of {@link HarborEndpoint#connection()}
   */
  OkHttpHarborClient(
      OkHttpClient http,
      HttpUrl baseUrl,
      HarborEndpoint endpoint,
      ObjectMapper mapper,
      ConnectionGuard guard,
      ClientMetrics metrics,
      ClientSettings settings) {
    this.http =
        http.newBuilder()
            .cookieJar(CookieJar.NO_COOKIES)
            .retryOnConnectionFailure(false)
            .followRedirects(false)
            .followSslRedirects(false)
            .addNetworkInterceptor(TRACK_SENDING)
            .addNetworkInterceptor(HIDE_RETRY_AFTER_FROM_OKHTTP)
            .build();
    this.baseUrl = Objects.requireNonNull(baseUrl, "baseUrl");
    this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
    this.admin =
        new Login(
            endpoint.username(),
            Credentials.basic(
                endpoint.username(), endpoint.password().reveal(), StandardCharsets.UTF_8));
    this.mapper = Objects.requireNonNull(mapper, "mapper");
    this.robotList = mapper.getTypeFactory().constructCollectionType(List.class, Robot.class);
    this.guard = Objects.requireNonNull(guard, "guard");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.policy = settings.retry();
    this.readTimeout = settings.readTimeout();
    this.sleeper = settings.sleeper();
    this.retry =
        Retry.of(
            "harbor-" + endpoint.connection(),
            RetryConfig.<Object>custom()
                .maxAttempts(policy.maxAttempts())
                .retryOnException(this::worthRepeating)
                .intervalBiFunction(this::waitBeforeRepeating)
                .failAfterMaxAttempts(false)
                .build());
  }

  /** The JSON mapping used for Harbor: ISO dates, unknown fields ignored, nulls left out. */
  static ObjectMapper newObjectMapper() {
    return new ObjectMapper()
        .registerModule(new JavaTimeModule())
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
        .setDefaultPropertyInclusion(JsonInclude.Include.NON_NULL);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Harbor serves this route to anonymous callers too, and treats credentials it does not accept
   * as anonymous rather than answering 401. Such an answer lacks {@code harbor_version}, so it is
   * reported as {@link HarborException.Kind#UNAUTHORIZED} (with status 200).
   */
  @Override
  public SystemInfo systemInfo() {
    return call(
        "GET",
        ROUTE_SYSTEMINFO,
        api("systeminfo").build(),
        null,
        null,
        admin,
        List.of(),
        reply -> {
          SystemInfo info = reply.json(mapper.constructType(SystemInfo.class));
          if (info.harborVersion() == null || info.harborVersion().isBlank()) {
            throw new HarborException(
                HarborException.Kind.UNAUTHORIZED,
                reply.status(),
                "GET " + ROUTE_SYSTEMINFO,
                "Harbor answered as to an anonymous caller (no harbor_version):"
                    + " the credentials were not accepted",
                reply.requestId(),
                null,
                null);
          }
          return info;
        });
  }

  @Override
  public Optional<Project> findProject(String projectName) {
    Objects.requireNonNull(projectName, "projectName");
    // Without X-Is-Resource-Name, Harbor reads an all-digit project name as a project id.
    return call(
        "GET",
        ROUTE_PROJECT,
        api("projects").addPathSegment(projectName).build(),
        Headers.of("X-Is-Resource-Name", "true"),
        null,
        admin,
        List.of(),
        reply -> presentUnless404(reply, Project.class));
  }

  /**
   * {@inheritDoc}
   *
   * <p>The query is {@code q=Level=project,ProjectID=<id>,name=~<robotName>}. Harbor compares
   * {@code name} with the stored name ({@code <project>+<robotName>}, no prefix), and it
   * URL-unescapes {@code q} a second time after the normal decoding, so a literal {@code +} in
   * {@code q} would have to travel as {@code %252B}. The query therefore carries only the robot
   * name, which Harbor's name rule limits to {@code [a-z0-9._-]}: characters that no unescaping
   * changes. The name is checked against that rule first. {@code =~} is a case-insensitive
   * "contains", so the page is then filtered here by the exact full name.
   */
  @Override
  public Optional<Robot> findProjectRobot(Project project, String robotName) {
    Objects.requireNonNull(project, "project");
    Objects.requireNonNull(robotName, "robotName");
    if (project.name() == null || project.projectId() <= 0) {
      throw new IllegalArgumentException("project needs a name and a positive id: " + project);
    }
    if (!ROBOT_NAME.matcher(robotName).matches()) {
      throw new IllegalArgumentException(
          "not a valid Harbor robot name (lowercase letters, digits, single . _ -): " + robotName);
    }
    // A project robot's full name is <prefix><project>+<robotName>. The prefix is instance
    // configuration and may itself contain '+' (so splitting on the first '+' is wrong), but
    // neither project nor robot names can contain '+'. So in a full name ending with
    // "<project>+<robotName>", the last '+' is the one the suffix starts with, and what follows it
    // is exactly the robot's name: no other robot of the project ("ci-2", "my-ci") can match. The
    // list is restricted to this project by ProjectID, which pins the project part.
    String wantedSuffix = project.name() + "+" + robotName;
    String q = "Level=project,ProjectID=" + project.projectId() + ",name=~" + robotName;
    for (int page = 1; page <= MAX_PAGES; page++) {
      RobotPage result = listRobots(q, page);
      for (Robot robot : result.robots()) {
        if (robot != null
            && robot.name() != null
            && robot.name().endsWith(wantedSuffix)
            && (robot.level() == null || "project".equals(robot.level()))) {
          return Optional.of(robot);
        }
      }
      if (!result.hasNextAfter(page, PAGE_SIZE)) {
        return Optional.empty();
      }
    }
    throw HarborErrors.protocol(
        "GET " + ROUTE_ROBOTS, 200, null, "more than " + MAX_PAGES + " pages of robots");
  }

  @Override
  public List<Robot> listProjectRobots(Project project) {
    Objects.requireNonNull(project, "project");
    if (project.projectId() <= 0) {
      throw new IllegalArgumentException("project needs a positive id: " + project);
    }
    String q = "Level=project,ProjectID=" + project.projectId();
    List<Robot> robots = new ArrayList<>();
    for (int page = 1; page <= MAX_PAGES; page++) {
      RobotPage result = listRobots(q, page);
      result.robots().stream().filter(Objects::nonNull).forEach(robots::add);
      if (!result.hasNextAfter(page, PAGE_SIZE)) {
        return robots;
      }
    }
    throw HarborErrors.protocol(
        "GET " + ROUTE_ROBOTS, 200, null, "more than " + MAX_PAGES + " pages of robots");
  }

  @Override
  public Optional<Robot> findSystemRobot(String robotName) {
    Objects.requireNonNull(robotName, "robotName");
    if (!ROBOT_NAME.matcher(robotName).matches()) {
      throw new IllegalArgumentException(
          "not a valid Harbor robot name (lowercase letters, digits, single . _ -): " + robotName);
    }
    // name= is an exact match on the stored name, which for a system robot is its name.
    return listRobots("Level=system,name=" + robotName, 1).robots().stream()
        .filter(r -> r != null && r.name() != null && r.name().endsWith(robotName))
        .filter(r -> "system".equals(r.level()))
        .findFirst();
  }

  /** GET /robots with this {@code q}, one page of {@link #PAGE_SIZE}. */
  private RobotPage listRobots(String q, int page) {
    HttpUrl url =
        api("robots")
            .addQueryParameter("q", q)
            .addQueryParameter("page", Integer.toString(page))
            .addQueryParameter("page_size", Integer.toString(PAGE_SIZE))
            .build();
    return call(
        "GET",
        ROUTE_ROBOTS,
        url,
        null,
        null,
        admin,
        List.of(),
        reply ->
            new RobotPage(
                reply.<List<Robot>>json(robotList),
                reply.header("X-Total-Count"),
                reply.header("Link")));
  }

  /**
   * One page of a robot list. Whether another page follows comes from {@code X-Total-Count} when it
   * is given ({@code page * page_size >= total} ends it), otherwise from a {@code rel="next"} entry
   * in {@code Link} (entries are separated by {@code " , "}; either may be missing), and with
   * neither header from whether the page was full. The next page's URL is built here rather than
   * taken from {@code Link}: the same request, and credentials never go to a URL this client did
   * not build.
   */
  record RobotPage(List<Robot> robots, String totalCount, String link) {

    boolean hasNextAfter(int page, int pageSize) {
      if (robots.isEmpty()) {
        return false;
      }
      Long total = parseTotal(totalCount);
      if (total != null && (long) page * pageSize >= total) {
        return false;
      }
      if (link != null && !link.isBlank()) {
        return hasRel(link, "next");
      }
      return total != null || robots.size() >= pageSize;
    }

    private static Long parseTotal(String value) {
      if (value == null) {
        return null;
      }
      try {
        return Long.parseLong(value.trim());
      } catch (NumberFormatException e) {
        return null;
      }
    }
  }

  static boolean hasRel(String linkHeader, String rel) {
    Matcher matcher = LINK_REL.matcher(linkHeader);
    while (matcher.find()) {
      for (String value : matcher.group(1).trim().split("\\s+")) {
        if (value.equalsIgnoreCase(rel)) {
          return true;
        }
      }
    }
    return false;
  }

  @Override
  public Optional<Robot> getRobot(long id) {
    return call(
        "GET",
        ROUTE_ROBOT,
        robotUrl(id),
        null,
        null,
        admin,
        List.of(),
        reply -> presentUnless404(reply, Robot.class));
  }

  /**
   * {@inheritDoc}
   *
   * <p>A 2xx whose body cannot be read is also {@link HarborException.Kind#OUTCOME_UNKNOWN}: the
   * robot exists, but its one-time secret is lost, so the caller must look it up and set a secret.
   */
  @Override
  public RobotCreated createRobot(RobotCreate robot) {
    Objects.requireNonNull(robot, "robot");
    String operation = "POST " + ROUTE_ROBOTS;
    return call(
        "POST",
        ROUTE_ROBOTS,
        api("robots").build(),
        null,
        robot,
        admin,
        List.of(),
        reply -> {
          if (!reply.isSuccessful()) {
            throw reply.error();
          }
          RobotCreated created;
          try {
            created = reply.json(mapper.constructType(RobotCreated.class));
          } catch (HarborException e) {
            throw createdButUnreadable(operation, reply, e.harborMessage());
          }
          if (created.id() <= 0
              || created.name() == null
              || created.secret() == null
              || created.secret().isEmpty()) {
            throw createdButUnreadable(operation, reply, "the answer lacks the id, name or secret");
          }
          return created;
        });
  }

  private static HarborException createdButUnreadable(
      String operation, Reply reply, String whatWasWrong) {
    return new HarborException(
        HarborException.Kind.OUTCOME_UNKNOWN,
        reply.status(),
        operation,
        "the robot was created but the answer is unusable (" + whatWasWrong + ")",
        reply.requestId(),
        null,
        null);
  }

  @Override
  public void updateRobot(Robot robot) {
    Objects.requireNonNull(robot, "robot");
    if (robot.id() == null) {
      throw new IllegalArgumentException("updateRobot needs the robot's id");
    }
    call(
        "PUT",
        ROUTE_ROBOT,
        robotUrl(robot.id()),
        null,
        robot,
        admin,
        List.of(),
        Reply::requireSuccess);
  }

  /**
   * {@inheritDoc}
   *
   * <p>An empty secret is refused here: Harbor would generate one and return it, and this method
   * has no way to hand it back, leaving the robot with a secret nobody knows.
   */
  @Override
  public void setRobotSecret(long robotId, RobotSecret secret) {
    Objects.requireNonNull(secret, "secret");
    if (secret.isEmpty()) {
      throw new IllegalArgumentException("setRobotSecret needs a non-empty secret");
    }
    call(
        "PATCH",
        ROUTE_ROBOT,
        robotUrl(robotId),
        null,
        Map.of("secret", secret),
        admin,
        List.of(secret.reveal()),
        Reply::requireSuccess);
  }

  @Override
  public boolean deleteRobot(long robotId) {
    return call(
        "DELETE",
        ROUTE_ROBOT,
        robotUrl(robotId),
        null,
        null,
        admin,
        List.of(),
        reply -> {
          if (reply.status() == 404) {
            return false;
          }
          reply.requireSuccess();
          return true;
        });
  }

  @Override
  public boolean registryLoginSucceeds(String username, RobotSecret secret) {
    Objects.requireNonNull(username, "username");
    Objects.requireNonNull(secret, "secret");
    HttpUrl url = baseUrl.newBuilder().addPathSegment("v2").addPathSegment("").build();
    return call(
        "GET",
        ROUTE_REGISTRY,
        url,
        null,
        null,
        new Login(username, Credentials.basic(username, secret.reveal(), StandardCharsets.UTF_8)),
        List.of(secret.reveal()),
        reply -> {
          if (reply.status() == 401) {
            return false;
          }
          reply.requireSuccess();
          return true;
        });
  }

  @Override
  public String toString() {
    return "OkHttpHarborClient[" + endpoint + "]";
  }

  // ---------------------------------------------------------------------------------------------

  private HttpUrl.Builder api(String resource) {
    return baseUrl.newBuilder().addPathSegments("api/v2.0").addPathSegment(resource);
  }

  private HttpUrl robotUrl(long id) {
    return api("robots").addPathSegment(Long.toString(id)).build();
  }

  /** A 404 is "not there"; anything else is the object (or an error, through json). */
  private <T> Optional<T> presentUnless404(Reply reply, Class<T> type) throws IOException {
    return reply.status() == 404
        ? Optional.empty()
        : Optional.of(reply.<T>json(mapper.constructType(type)));
  }

  @FunctionalInterface
  private interface ReplyHandler<T> {
    T handle(Reply reply) throws IOException;
  }

  /**
   * Sends a request (again, when it fails in a way worth repeating and the method is safe to
   * repeat: see the class comment) and hands the response to {@code handler}. Statuses the handler
   * does not accept become a {@link HarborException} through {@link Reply#error()}. I/O failures,
   * including those while the handler reads the body, are classified by {@link
   * HarborErrors#fromIo}.
   *
   * @param sensitive values to mask should Harbor echo them in an error message (besides the
   *     endpoint's password, which is always masked)
   */
  private <T> T call(
      String method,
      String route,
      HttpUrl url,
      Headers extraHeaders,
      Object body,
      Login login,
      List<String> sensitive,
      ReplyHandler<T> handler) {
    String operation = method + " " + route;
    RequestBody requestBody = null;
    if (body != null) {
      try {
        // Serialised once: a repeated PUT or PATCH sends exactly the same bytes.
        requestBody = RequestBody.create(mapper.writeValueAsBytes(body), JSON);
      } catch (JsonProcessingException e) {
        // Our own records; the cause is dropped because its message could quote the body.
        throw new UncheckedIOException(
            new IOException("cannot serialise the body of " + operation));
      }
    }
    List<String> masked =
        sensitive.isEmpty()
            ? List.of(endpoint.password().reveal())
            : concat(sensitive, endpoint.password().reveal());
    Exchange<T> exchange =
        new Exchange<>(
            method, route, operation, url, extraHeaders, requestBody, login, masked, handler);
    if (!REPEATABLE.contains(method) || policy.maxAttempts() <= 1) {
      return send(exchange);
    }
    Retry.Context<T> attempts = retry.context();
    while (true) {
      try {
        T result = send(exchange);
        attempts.onComplete();
        return result;
      } catch (HarborException e) {
        // Throws e when it is not worth repeating or the attempts are used up; otherwise returns
        // once the wait before the next attempt (waitBeforeRepeating) is over.
        attempts.onRuntimeError(e);
        metrics.retry(endpoint.connection(), method, route, e.kind());
      }
    }
  }

  /** One request of a call, with everything needed to send it again. */
  private record Exchange<T>(
      String method,
      String route,
      String operation,
      HttpUrl url,
      Headers extraHeaders,
      RequestBody body,
      Login login,
      List<String> masked,
      ReplyHandler<T> handler) {}

  /** Whether a failed attempt (of a GET, PUT, PATCH or DELETE) is worth sending again. */
  private boolean worthRepeating(Throwable failure) {
    if (!(failure instanceof HarborException e) || Thread.currentThread().isInterrupted()) {
      return false;
    }
    return switch (e.kind()) {
      case UNREACHABLE -> true;
      case SERVER_ERROR, RATE_LIMITED ->
          // status 0: this client's own limits refused to queue longer; the caller reschedules
          e.httpStatus() != 0
              && e.retryAfter().map(d -> d.compareTo(policy.maxRetryAfter()) <= 0).orElse(true);
      default -> false;
    };
  }

  /**
   * Waits before attempt {@code retryNumber + 1}: Harbor's {@code Retry-After} when it gave one
   * (already known to be short enough), otherwise the policy's jittered backoff. The wait goes
   * through the injected {@link Sleeper} (resilience4j's own sleep is one JVM-wide function), so
   * resilience4j is told to wait no further.
   */
  private long waitBeforeRepeating(Integer retryNumber, Either<Throwable, Object> outcome) {
    if (outcome == null || !outcome.isLeft()) {
      return 0L;
    }
    HarborException failure = (HarborException) outcome.getLeft();
    Duration wait = failure.retryAfter().orElseGet(() -> policy.backoff(retryNumber));
    LOG.debug(
        "{}; attempt {} of {} in {} ms",
        failure.getMessage(),
        retryNumber + 1,
        policy.maxAttempts(),
        wait.toMillis());
    try {
      sleeper.sleep(wait);
    } catch (InterruptedException interrupted) {
      Thread.currentThread().interrupt();
      throw failure;
    }
    return 0L;
  }

  /**
   * Sends one request: waits out a login lockout of its username, takes a concurrency slot and a
   * rate permit of the connection, and holds the slot until the response has been handled.
   */
  private <T> T send(Exchange<T> x) {
    awaitLoginLockout(x);
    ConnectionGuard.Limits limits = guard.limits();
    enter(limits, x);
    String requestId = UUID.randomUUID().toString();
    Attempt attempt = new Attempt();
    Request.Builder request =
        new Request.Builder()
            .url(x.url())
            .method(x.method(), x.body())
            .header("Authorization", x.login().authorization())
            .header("X-Request-Id", requestId)
            .header("Accept", "application/json")
            .tag(Attempt.class, attempt);
    if (x.extraHeaders() != null) {
      for (int i = 0; i < x.extraHeaders().size(); i++) {
        request.header(x.extraHeaders().name(i), x.extraHeaders().value(i));
      }
    }
    String status = ClientMetrics.IO_ERROR;
    long start = System.nanoTime();
    boolean harborMayStillBeWorking = false;
    try (Response response = http.newCall(request.build()).execute()) {
      status = Integer.toString(response.code());
      if (response.code() == 401) {
        guard.lockedOut(x.login().username());
      }
      String echoed = response.header("X-Request-Id");
      String id = echoed == null || echoed.isBlank() ? requestId : echoed;
      LOG.debug(
          "Harbor {} {} -> {} in {} ms (request id {})",
          x.method(),
          x.route(),
          response.code(),
          elapsedMillis(start),
          id);
      return x.handler().handle(new Reply(response, x.operation(), id, x.masked()));
    } catch (IOException e) {
      harborMayStillBeWorking = attempt.mayHaveBeenSent && e instanceof InterruptedIOException;
      HarborException failure =
          HarborErrors.fromIo(x.method(), x.operation(), requestId, attempt.mayHaveBeenSent, e);
      LOG.debug(
          "Harbor {} {} failed after {} ms as {}: {} (request id {})",
          x.method(),
          x.route(),
          elapsedMillis(start),
          failure.kind(),
          e.getClass().getSimpleName(),
          requestId);
      throw failure;
    } catch (HarborException e) {
      if (e.kind() == HarborException.Kind.UNAUTHORIZED) {
        // also a 200 that Harbor served as to an anonymous caller: the login failed all the same
        guard.lockedOut(x.login().username());
      }
      throw e;
    } finally {
      if (harborMayStillBeWorking) {
        // The client stopped waiting, but Harbor may still be working on the request: its slot
        // stays taken for another read timeout, so that a slow Harbor is not sent more at once.
        SLOT_RELEASER.schedule(
            limits.slots()::onComplete, readTimeout.toMillis(), TimeUnit.MILLISECONDS);
      } else {
        limits.slots().onComplete();
      }
      metrics.request(
          endpoint.connection(), x.method(), x.route(), status, System.nanoTime() - start);
    }
  }

  /** Harbor locks a username for 1.5 s after a failed login: sending earlier cannot succeed. */
  private void awaitLoginLockout(Exchange<?> x) {
    Duration locked = guard.lockoutRemaining(x.login().username());
    if (locked.isZero()) {
      return;
    }
    metrics.throttled(endpoint.connection(), ClientMetrics.LIMITER_LOGIN_LOCKOUT);
    LOG.debug(
        "Harbor {} {} waits {} ms: the login was refused moments ago",
        x.method(),
        x.route(),
        locked.toMillis());
    try {
      sleeper.sleep(locked);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw notSent(x, null);
    }
  }

  /** Takes a concurrency slot, then a rate permit; on failure nothing is held. */
  private void enter(ConnectionGuard.Limits limits, Exchange<?> x) {
    long start = System.nanoTime();
    if (!limits.slots().tryAcquirePermission()) {
      throw notSent(
          x,
          "no request slot within the client's queue limit (maxConcurrentRequests "
              + limits.maxConcurrentRequests()
              + ")");
    }
    if (System.nanoTime() - start > THROTTLE_NOTICE_NANOS) {
      metrics.throttled(endpoint.connection(), ClientMetrics.LIMITER_CONCURRENCY);
    }
    long waitNanos;
    try {
      waitNanos = limits.rate().reservePermission();
      if (waitNanos == 0) {
        // Granted at once, possibly late in the limiter's cycle: keep the next cycle's permit
        // unused, so that the next request leaves at least one interval after this one.
        limits.rate().reservePermission();
      }
    } catch (RuntimeException e) {
      limits.slots().releasePermission();
      throw e;
    }
    if (waitNanos < 0) {
      limits.slots().releasePermission();
      throw notSent(
          x,
          "no request permit within the client's queue limit (requestsPerSecond "
              + limits.requestsPerSecond()
              + ")");
    }
    if (waitNanos > 0) {
      metrics.throttled(endpoint.connection(), ClientMetrics.LIMITER_RATE);
      try {
        // the rate limit is kept in real time, whatever the injected sleeper does
        TimeUnit.NANOSECONDS.sleep(waitNanos);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        limits.slots().releasePermission();
        throw notSent(x, null);
      }
    }
  }

  /**
   * A request this client did not send: interrupted ({@link HarborException.Kind#UNREACHABLE}), or
   * held back by the connection's own limits for longer than it may queue ({@link
   * HarborException.Kind#RATE_LIMITED} with status 0 and a short, jittered retry-after). Never
   * {@link HarborException.Kind#OUTCOME_UNKNOWN}, even for a POST: nothing reached Harbor.
   */
  private HarborException notSent(Exchange<?> x, String limit) {
    if (limit == null || Thread.currentThread().isInterrupted()) {
      return new HarborException(
          HarborException.Kind.UNREACHABLE,
          0,
          x.operation(),
          "interrupted before the request was sent",
          null,
          null,
          null);
    }
    Duration later = Duration.ofMillis(1000 + ThreadLocalRandom.current().nextLong(4000));
    return new HarborException(
        HarborException.Kind.RATE_LIMITED, 0, x.operation(), limit, null, later, null);
  }

  private static List<String> concat(List<String> values, String extra) {
    return java.util.stream.Stream.concat(values.stream(), java.util.stream.Stream.of(extra))
        .toList();
  }

  private static long elapsedMillis(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }

  /** A response in the hands of a {@link ReplyHandler}. */
  private final class Reply {
    private final Response response;
    private final String operation;
    private final String requestId;
    private final List<String> sensitive;

    Reply(Response response, String operation, String requestId, List<String> sensitive) {
      this.response = response;
      this.operation = operation;
      this.requestId = requestId;
      this.sensitive = sensitive;
    }

    int status() {
      return response.code();
    }

    String requestId() {
      return requestId;
    }

    String header(String name) {
      return response.header(name);
    }

    boolean isSuccessful() {
      return response.code() >= 200 && response.code() <= 299;
    }

    /** The exception for this (non-success) response. */
    HarborException error() {
      return HarborErrors.fromResponse(response, operation, requestId, mapper, sensitive);
    }

    Void requireSuccess() {
      if (!isSuccessful()) {
        throw error();
      }
      return null;
    }

    /** The body of a success response as {@code type}; anything else becomes an exception. */
    <T> T json(JavaType type) throws IOException {
      requireSuccess();
      byte[] bytes = readBounded(response.body());
      T value;
      try {
        value = mapper.readValue(bytes, type);
      } catch (JsonProcessingException e) {
        // Only the position: Jackson's own message may quote the body (a secret, for a create).
        JsonLocation at = e.getLocation();
        throw HarborErrors.protocol(
            operation,
            status(),
            requestId,
            "the answer is not the expected JSON ("
                + e.getClass().getSimpleName()
                + (at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr())
                + ")");
      }
      if (value == null) {
        throw HarborErrors.protocol(operation, status(), requestId, "the answer is empty");
      }
      return value;
    }

    private byte[] readBounded(ResponseBody body) throws IOException {
      BufferedSource source = body.source();
      if (source.request(MAX_BODY_BYTES + 1)) {
        throw HarborErrors.protocol(
            operation,
            status(),
            requestId,
            "the answer is larger than " + MAX_BODY_BYTES + " bytes");
      }
      return source.readByteArray();
    }
  }
}
