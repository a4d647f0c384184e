package io.harborrobot.operator.harbor;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
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
 * OkHttpHarborClientFactory}. Thread-safe and stateless apart from OkHttp's connection pool.
 *
 * <p>Transport rules, whatever client it is handed: no cookie jar (a replayed {@code sid} cookie
 * turns on Harbor's CSRF check and every change fails with 403), no silent retry on a failed
 * connection (OkHttp would otherwise resend a POST on a stale pooled connection and could create a
 * duplicate), no redirects (a POST redirected from http to https would come back as a GET), HTTP
 * Basic sent pre-emptively (Harbor's API 401s carry no challenge) and an {@code X-Request-Id} on
 * every call. This client never retries: the caller decides, from {@link HarborException#kind()}.
 *
 * <p>Nothing secret is logged or put in an exception: log lines and messages hold the method, the
 * route template, the status, Harbor's message and the request id, never a body or a header.
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

  private final OkHttpClient http;
  private final HttpUrl baseUrl;
  private final HarborEndpoint endpoint;
  private final String authorization;
  private final ObjectMapper mapper;
  private final JavaType robotList;

  /**
   * @param http the client to derive from (pool, dispatcher, timeouts, TLS); the transport rules in
   *     the class comment are applied on top of it
   * @param baseUrl the endpoint's base URL, parsed
   */
  OkHttpHarborClient(
      OkHttpClient http, HttpUrl baseUrl, HarborEndpoint endpoint, ObjectMapper mapper) {
    this.http =
        http.newBuilder()
            .cookieJar(CookieJar.NO_COOKIES)
            .retryOnConnectionFailure(false)
            .followRedirects(false)
            .followSslRedirects(false)
            .addNetworkInterceptor(TRACK_SENDING)
            .build();
    this.baseUrl = Objects.requireNonNull(baseUrl, "baseUrl");
    this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
    this.authorization =
        Credentials.basic(
            endpoint.username(), endpoint.password().reveal(), StandardCharsets.UTF_8);
    this.mapper = Objects.requireNonNull(mapper, "mapper");
    this.robotList = mapper.getTypeFactory().constructCollectionType(List.class, Robot.class);
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
        authorization,
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
        authorization,
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
      HttpUrl url =
          api("robots")
              .addQueryParameter("q", q)
              .addQueryParameter("page", Integer.toString(page))
              .addQueryParameter("page_size", Integer.toString(PAGE_SIZE))
              .build();
      RobotPage result =
          call(
              "GET",
              ROUTE_ROBOTS,
              url,
              null,
              null,
              authorization,
              List.of(),
              reply ->
                  new RobotPage(
                      reply.<List<Robot>>json(robotList),
                      reply.header("X-Total-Count"),
                      reply.header("Link")));
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
        authorization,
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
        authorization,
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
        authorization,
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
        authorization,
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
        authorization,
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
        Credentials.basic(username, secret.reveal(), StandardCharsets.UTF_8),
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
   * Sends one request and hands the response to {@code handler}. Statuses the handler does not
   * accept become a {@link HarborException} through {@link Reply#error()}. I/O failures, including
   * those while the handler reads the body, are classified by {@link HarborErrors#fromIo}.
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
      String authorizationHeader,
      List<String> sensitive,
      ReplyHandler<T> handler) {
    String operation = method + " " + route;
    String requestId = UUID.randomUUID().toString();
    RequestBody requestBody = null;
    if (body != null) {
      try {
        requestBody = RequestBody.create(mapper.writeValueAsBytes(body), JSON);
      } catch (JsonProcessingException e) {
        // Our own records; the cause is dropped because its message could quote the body.
        throw new UncheckedIOException(
            new IOException("cannot serialise the body of " + operation));
      }
    }
    Attempt attempt = new Attempt();
    Request.Builder request =
        new Request.Builder()
            .url(url)
            .method(method, requestBody)
            .header("Authorization", authorizationHeader)
            .header("X-Request-Id", requestId)
            .header("Accept", "application/json")
            .tag(Attempt.class, attempt);
    if (extraHeaders != null) {
      for (int i = 0; i < extraHeaders.size(); i++) {
        request.header(extraHeaders.name(i), extraHeaders.value(i));
      }
    }
    List<String> masked =
        sensitive.isEmpty()
            ? List.of(endpoint.password().reveal())
            : concat(sensitive, endpoint.password().reveal());
    long start = System.nanoTime();
    try (Response response = http.newCall(request.build()).execute()) {
      String echoed = response.header("X-Request-Id");
      String id = echoed == null || echoed.isBlank() ? requestId : echoed;
      LOG.debug(
          "Harbor {} {} -> {} in {} ms (request id {})",
          method,
          route,
          response.code(),
          elapsedMillis(start),
          id);
      return handler.handle(new Reply(response, operation, id, masked));
    } catch (IOException e) {
      HarborException failure =
          HarborErrors.fromIo(method, operation, requestId, attempt.mayHaveBeenSent, e);
      LOG.debug(
          "Harbor {} {} failed after {} ms as {}: {} (request id {})",
          method,
          route,
          elapsedMillis(start),
          failure.kind(),
          e.getClass().getSimpleName(),
          requestId);
      throw failure;
    }
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
