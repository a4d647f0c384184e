package io.harborrobot.operator.harbor.contract;

import com.atlassian.oai.validator.OpenApiInteractionValidator;
import com.atlassian.oai.validator.model.Request;
import com.atlassian.oai.validator.model.SimpleRequest;
import com.atlassian.oai.validator.model.SimpleResponse;
import com.atlassian.oai.validator.report.ValidationReport;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.harborrobot.operator.sandbox.ExchangeObserver;
import io.harborrobot.operator.sandbox.HarborEmulator;
import io.harborrobot.operator.sandbox.RecordedExchange;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks HTTP exchanges with the Harbor emulator against Harbor's own OpenAPI file ({@code
 * shared/harbor/swagger.yaml}, Swagger 2.0, read in place and never copied): every request the
 * client sends as a request of its operation, and every response the emulator returns as a response
 * of that operation. It runs for the whole test suite through {@link HarborContractExtension}.
 *
 * <p>Real Harbor departs from its swagger in a few places the project relies on. Those, and only
 * those, are in {@link #DEPARTURES}: each names the route, the status or rule, why, and the place
 * in {@code ROBOT_API.md} that documents it. Everything else the validator reports is a {@link
 * Violation}. Only {@code /api/v2.0/...} is in the swagger; the registry's {@code /v2/} and {@code
 * /service/token} are not validated.
 *
 * <p>A test that sends a malformed request on purpose says so with {@link
 * #expectRequestViolations}: the request violations of that call are then expected (at least one
 * must occur) and dropped, while the response of the same exchange is still checked.
 *
 * <p>Messages never contain secrets: values of {@code "secret"} fields and Basic-auth passwords
 * seen in an exchange are masked before a message is kept.
 */
public final class HarborContract implements ExchangeObserver {

  /** System property naming Harbor's swagger file (relative paths: to the working directory). */
  public static final String SWAGGER_PROPERTY = "harbor.swagger";

  /** Where the swagger is by default: beside the project, as surefire and failsafe run it. */
  public static final String DEFAULT_SWAGGER = "../shared/harbor/swagger.yaml";

  /** Harbor's {@code basePath}; the validator gets paths below it. */
  public static final String BASE_PATH = "/api/v2.0";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern SECRET_FIELD =
      Pattern.compile("\"secret\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");
  private static final String UNKNOWN_STATUS = "validation.response.status.unknown";

  /**
   * Where real Harbor (and so the emulator) departs from its swagger, on purpose. Keep this list
   * short and every entry sourced; an emulator bug never goes here, it gets fixed.
   */
  public static final List<Departure> DEPARTURES =
      List.of(
          new Departure(
              "POST /robots 409",
              "POST",
              "/robots/?",
              Set.of(409),
              false,
              "A second robot with the same name in the same scope is refused by the database's"
                  + " unique constraint with 409 CONFLICT, which CreateRobot does not list.",
              "ROBOT_API.md §2.1 step 10, §9"),
          new Departure(
              "GET /robots 401/403",
              "GET",
              "/robots/?",
              Set.of(401, 403),
              false,
              "Listing robots needs credentials (401 without) and robot:list on the system or the"
                  + " project (403 without); ListRobot lists only 200, 400, 404 and 500.",
              "ROBOT_API.md §0 (who can call /robots), §2.2, §9"),
          new Departure(
              "any operation 422",
              "*",
              ".*",
              Set.of(422),
              false,
              "go-swagger answers every binding or validation failure (missing or malformed body,"
                  + " wrong JSON type, page_size > 100, non-integer robot_id, unsupported media"
                  + " type) with 422 UNPROCESSABLE_ENTITY, which no robot operation lists. Such a"
                  + " request already breaks the swagger, so it is reported as a request"
                  + " violation unless the test expects it.",
              "ROBOT_API.md §0 (error body), §9"),
          new Departure(
              "injected faults",
              "*",
              ".*",
              Set.of(),
              true,
              "failNext/setErrorRate stand in for a rate limiter, a proxy or an overloaded Harbor"
                  + " (429 TOO_MANY_REQUEST, 500, 502, 503, 504, or whichever status a test needs);"
                  + " Harbor's swagger does not list those per operation.",
              "ROBOT_API.md §0 (code to HTTP mapping: TOO_MANY_REQUEST -> 429, 5xx ->"
                  + " internal server error)"));

  private static volatile OpenApiInteractionValidator validator;

  private final String owner;
  private final List<Violation> violations = new ArrayList<>();
  private volatile boolean closed;

  /** A contract that collects the violations of the exchanges it observes, for {@code owner}. */
  public HarborContract(String owner) {
    this.owner = Objects.requireNonNull(owner, "owner");
    validator(); // fail early when the swagger is missing
  }

  /** The contract that observes {@code harbor}; fails when none does. */
  public static HarborContract of(HarborEmulator harbor) {
    if (harbor.exchangeObserver() instanceof HarborContract contract) {
      return contract;
    }
    throw new AssertionError(
        "no Harbor contract check observes this emulator: is "
            + HarborContractExtension.class.getName()
            + " registered (src/test/resources/META-INF/services)?");
  }

  /**
   * Where the swagger is: {@code -Dharbor.swagger}, or {@link #DEFAULT_SWAGGER} resolved against
   * the working directory (the project root under surefire and failsafe).
   *
   * @throws AssertionError when there is no such file: the contract check is never skipped
   */
  public static Path swaggerPath() {
    String configured = System.getProperty(SWAGGER_PROPERTY, DEFAULT_SWAGGER);
    Path path = Path.of(configured);
    if (!path.isAbsolute()) {
      path = Path.of(System.getProperty("user.dir")).resolve(path);
    }
    path = path.normalize();
    if (!Files.isRegularFile(path)) {
      throw new AssertionError(
          "Harbor's swagger was not found at "
              + path
              + " (from -D"
              + SWAGGER_PROPERTY
              + "="
              + configured
              + ", resolved against the working directory "
              + System.getProperty("user.dir")
              + "). The contract tests need it: keep shared/harbor/swagger.yaml beside the"
              + " project or point -D"
              + SWAGGER_PROPERTY
              + " at it.");
    }
    return path;
  }

  private static OpenApiInteractionValidator validator() {
    OpenApiInteractionValidator v = validator;
    if (v == null) {
      synchronized (HarborContract.class) {
        v = validator;
        if (v == null) {
          String spec;
          try {
            spec = Files.readString(swaggerPath(), StandardCharsets.UTF_8);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
          v =
              OpenApiInteractionValidator.createForInlineApiSpecification(spec)
                  .withBasePathOverride(BASE_PATH)
                  .build();
          validator = v;
        }
      }
    }
    return v;
  }

  // ---------------------------------------------------------------------------------------------
  // collecting

  @Override
  public void observe(RecordedExchange exchange) {
    List<Violation> found = check(exchange);
    if (found.isEmpty()) {
      return;
    }
    synchronized (this) {
      if (closed) {
        // The class that owned this contract has finished; nothing can be failed any more.
        System.err.println(
            "Harbor contract of " + owner + " (closed) ignores violations of " + exchange);
        return;
      }
      violations.addAll(found);
    }
  }

  /** The violations collected so far. */
  public synchronized List<Violation> violations() {
    return List.copyOf(violations);
  }

  /** Returns and forgets the violations collected so far. */
  public synchronized List<Violation> takeViolations() {
    List<Violation> taken = List.copyOf(violations);
    violations.clear();
    return taken;
  }

  /** Stops collecting; later exchanges are checked but not kept. */
  synchronized void close() {
    closed = true;
  }

  /**
   * Runs {@code call}, which sends a request that breaks the swagger on purpose (the emulator's
   * answer to such requests is under test), and returns its result. At least one request violation
   * must occur during the call; those are returned through {@code expected} (when not null) and
   * dropped. Response violations are kept and still fail the class. Run it while no other requests
   * reach the emulator.
   */
  public <T> T expectRequestViolations(Supplier<T> call, List<Violation> expected) {
    int before;
    synchronized (this) {
      before = violations.size();
    }
    T result = call.get();
    List<Violation> requestSide = new ArrayList<>();
    synchronized (this) {
      List<Violation> during =
          violations.subList(Math.min(before, violations.size()), violations.size());
      for (Violation v : during) {
        if (v.side() == Side.REQUEST) {
          requestSide.add(v);
        }
      }
      during.removeIf(v -> v.side() == Side.REQUEST);
    }
    if (requestSide.isEmpty()) {
      throw new AssertionError(
          "the request was expected to break Harbor's swagger, but the contract check accepted it");
    }
    if (expected != null) {
      expected.addAll(requestSide);
    }
    return result;
  }

  /** {@link #expectRequestViolations(Supplier, List)} without looking at the violations. */
  public <T> T expectRequestViolations(Supplier<T> call) {
    return expectRequestViolations(call, null);
  }

  // ---------------------------------------------------------------------------------------------
  // checking

  /**
   * The violations of one exchange: the validator's errors on its request and its response, less
   * the {@link #DEPARTURES}. Exchanges outside {@code /api/v2.0} are not in the swagger: none.
   */
  public static List<Violation> check(RecordedExchange exchange) {
    if (!exchange.rawPath().startsWith(BASE_PATH + "/")) {
      return List.of();
    }
    Set<String> secrets = secretsIn(exchange);
    List<Violation> found = new ArrayList<>();
    try {
      Request request = toRequest(exchange);
      ValidationReport requestReport = validate(() -> validator().validateRequest(request));
      boolean operationKnown = true;
      for (ValidationReport.Message m : errors(requestReport)) {
        if (m.getKey().equals("validation.request.path.missing")
            || m.getKey().equals("validation.request.operation.notAllowed")) {
          operationKnown = false;
        }
        found.add(violation(exchange, Side.REQUEST, m.getKey(), describe(m), secrets));
      }
      if (exchange.requestBody().length > 0 && exchange.requestHeader("Content-Type") == null) {
        // The validator checks a Content-Type only when there is one; go-swagger reads a missing
        // one as application/octet-stream, which is not in consumes (422).
        found.add(
            violation(
                exchange,
                Side.REQUEST,
                "harbor.request.contentType.missing",
                "a request body needs Content-Type: application/json (the swagger's consumes)",
                secrets));
      }
      if (exchange.responded() && operationKnown) {
        ValidationReport responseReport =
            validate(
                () ->
                    validator()
                        .validateResponse(
                            exchange.rawPath(), request.getMethod(), toResponse(exchange)));
        for (ValidationReport.Message m : errors(responseReport)) {
          if (m.getKey().equals(UNKNOWN_STATUS) && departureFor(exchange) != null) {
            // allowed departure; the body must still be Harbor's error body
            String problem = errorBodyProblem(exchange);
            if (problem != null) {
              found.add(violation(exchange, Side.RESPONSE, "harbor.errors.body", problem, secrets));
            }
            continue;
          }
          found.add(violation(exchange, Side.RESPONSE, m.getKey(), describe(m), secrets));
        }
      }
    } catch (RuntimeException e) {
      found.add(
          violation(
              exchange, Side.REQUEST, "contract.check.failed", "the check failed: " + e, secrets));
    }
    return found;
  }

  private static ValidationReport validate(Supplier<ValidationReport> run) {
    // the validator is not documented as thread-safe and emulators serve requests in parallel
    synchronized (HarborContract.class) {
      return run.get();
    }
  }

  private static List<ValidationReport.Message> errors(ValidationReport report) {
    return report.getMessages().stream()
        .filter(m -> m.getLevel() == ValidationReport.Level.ERROR)
        .toList();
  }

  private static String describe(ValidationReport.Message m) {
    StringBuilder b = new StringBuilder(m.getMessage());
    for (String info : m.getAdditionalInfo()) {
      b.append(" | ").append(info);
    }
    for (ValidationReport.Message nested : m.getNestedMessages()) {
      b.append(" | ").append(nested.getMessage());
    }
    return b.toString();
  }

  /** The departure that allows this exchange's status, or null. */
  static Departure departureFor(RecordedExchange exchange) {
    String below = exchange.rawPath().substring(BASE_PATH.length());
    for (Departure d : DEPARTURES) {
      if (d.covers(exchange.method(), below, exchange.status(), exchange.injected())) {
        return d;
      }
    }
    return null;
  }

  /** Null when the body is {@code {"errors":[{"code":"...","message":"..."}]}}. */
  private static String errorBodyProblem(RecordedExchange exchange) {
    if (exchange.status() < 400) {
      return "an allowed undocumented status must be an error, not " + exchange.status();
    }
    try {
      JsonNode body = JSON.readTree(exchange.responseBody());
      JsonNode errors = body == null ? null : body.get("errors");
      if (errors != null && errors.isArray() && !errors.isEmpty()) {
        boolean ok = true;
        for (JsonNode e : errors) {
          ok &=
              e.isObject()
                  && e.path("code").isTextual()
                  && e.path("message").isTextual()
                  && e.size() == 2;
        }
        if (ok && body.size() == 1) {
          return null;
        }
      }
    } catch (IOException e) {
      // not JSON
    }
    return "status "
        + exchange.status()
        + " is an allowed departure, but its body is not Harbor's Errors"
        + " ({\"errors\":[{\"code\":...,\"message\":...}]})";
  }

  private static Request toRequest(RecordedExchange exchange) {
    SimpleRequest.Builder b =
        new SimpleRequest.Builder(exchange.method(), exchange.rawPath(), true);
    exchange.requestHeaders().forEach(b::withHeader);
    if (exchange.requestBody().length > 0) {
      b.withBody(exchange.requestBody());
    }
    queryParams(exchange.rawQuery()).forEach(b::withQueryParam);
    return b.build();
  }

  private static SimpleResponse toResponse(RecordedExchange exchange) {
    SimpleResponse.Builder b = new SimpleResponse.Builder(exchange.status());
    exchange.responseHeaders().forEach(b::withHeader);
    if (exchange.responseBody().length > 0) {
      b.withBody(exchange.responseBody());
    }
    return b.build();
  }

  /** Query parameters decoded once, as Go's {@code url.ParseQuery} (and so Harbor) reads them. */
  static Map<String, List<String>> queryParams(String rawQuery) {
    Map<String, List<String>> params = new LinkedHashMap<>();
    if (rawQuery == null || rawQuery.isEmpty()) {
      return params;
    }
    for (String pair : rawQuery.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String key = decode(eq < 0 ? pair : pair.substring(0, eq));
      String value = decode(eq < 0 ? "" : pair.substring(eq + 1));
      params.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
    }
    return params;
  }

  private static String decode(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return s;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // secrets

  private static Set<String> secretsIn(RecordedExchange exchange) {
    Set<String> secrets = new LinkedHashSet<>();
    for (byte[] body : List.of(exchange.requestBody(), exchange.responseBody())) {
      Matcher m = SECRET_FIELD.matcher(new String(body, StandardCharsets.UTF_8));
      while (m.find()) {
        if (!m.group(1).isEmpty()) {
          secrets.add(m.group(1));
        }
      }
    }
    String authorization = exchange.requestHeader("Authorization");
    if (authorization != null && !authorization.isBlank()) {
      secrets.add(authorization);
      int space = authorization.indexOf(' ');
      if (space > 0 && authorization.substring(0, space).equalsIgnoreCase("Basic")) {
        secrets.add(authorization.substring(space + 1).trim());
        try {
          String decoded =
              new String(
                  Base64.getDecoder().decode(authorization.substring(space + 1).trim()),
                  StandardCharsets.UTF_8);
          int colon = decoded.indexOf(':');
          if (colon >= 0 && colon < decoded.length() - 1) {
            secrets.add(decoded.substring(colon + 1));
          }
        } catch (IllegalArgumentException e) {
          // not Base64: the raw header is masked already
        }
      }
    }
    return secrets;
  }

  private static String mask(String text, Set<String> secrets) {
    String masked = text;
    for (String secret : secrets) {
      masked = masked.replace(secret, "***");
    }
    return masked;
  }

  private static Violation violation(
      RecordedExchange e, Side side, String key, String message, Set<String> secrets) {
    String target = e.rawPath() + (e.rawQuery() == null ? "" : "?" + e.rawQuery());
    return new Violation(
        e.method(),
        mask(target, secrets),
        e.responded() ? e.status() : RecordedExchange.NO_RESPONSE,
        e.injected(),
        side,
        key,
        mask(message, secrets));
  }

  // ---------------------------------------------------------------------------------------------
  // types

  /** Which half of an exchange broke the swagger. */
  public enum Side {
    REQUEST,
    RESPONSE
  }

  /**
   * One thing the validator found wrong with an exchange.
   *
   * @param method the request method
   * @param target path and query as sent (secrets masked)
   * @param status the response status, 0 when no response was sent
   * @param injected whether fault injection decided the response
   * @param side the request or the response
   * @param key the validator's message key, e.g. {@code validation.request.body.schema.type}
   * @param message the validator's message (secrets masked)
   */
  public record Violation(
      String method,
      String target,
      int status,
      boolean injected,
      Side side,
      String key,
      String message) {

    @Override
    public String toString() {
      return method
          + " "
          + target
          + " -> "
          + (status == RecordedExchange.NO_RESPONSE ? "no response" : Integer.toString(status))
          + (injected ? " (injected)" : "")
          + " ["
          + side.name().toLowerCase(Locale.ROOT)
          + "] "
          + key
          + ": "
          + message;
    }
  }

  /**
   * A documented place where real Harbor answers outside its swagger: a response status that the
   * swagger does not list for the operation is accepted when an entry covers it (its body must
   * still be Harbor's error body). Nothing else is ever allowed.
   *
   * @param name a short name
   * @param method the request method, or {@code "*"} for any
   * @param pathBelowBase a regular expression for the path below {@code /api/v2.0}
   * @param statuses the statuses allowed; empty for any (injected faults only)
   * @param injectedOnly whether the entry covers only responses decided by fault injection
   * @param why why Harbor (or the emulator's fault injection) answers so
   * @param source where {@code ROBOT_API.md} documents it
   */
  public record Departure(
      String name,
      String method,
      String pathBelowBase,
      Set<Integer> statuses,
      boolean injectedOnly,
      String why,
      String source) {

    public Departure {
      statuses = Set.copyOf(statuses);
      if (statuses.isEmpty() && !injectedOnly) {
        throw new IllegalArgumentException("only injected faults may allow any status: " + name);
      }
    }

    boolean covers(String requestMethod, String below, int status, boolean injected) {
      return (method.equals("*") || method.equalsIgnoreCase(requestMethod))
          && Pattern.matches(pathBelowBase, below)
          && (statuses.isEmpty() || statuses.contains(status))
          && (!injectedOnly || injected);
    }
  }
}
