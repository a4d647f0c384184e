package io.harborrobot.operator.harbor.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.harborrobot.operator.harbor.contract.HarborContract.Side;
import io.harborrobot.operator.harbor.contract.HarborContract.Violation;
import io.harborrobot.operator.sandbox.HarborEmulator;
import io.harborrobot.operator.sandbox.RecordedExchange;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The contract check itself: it must catch what breaks Harbor's swagger and accept the rest. */
class HarborContractTest {

  private static final String ADMIN = "admin";
  private static final String PASSWORD = "Harbor12345";
  private static final String VALID_CREATE =
      "{\"name\":\"ci\",\"description\":\"d\",\"level\":\"project\",\"duration\":-1,"
          + "\"permissions\":[{\"kind\":\"project\",\"namespace\":\"proj\",\"access\":"
          + "[{\"resource\":\"repository\",\"action\":\"pull\",\"effect\":\"allow\"}]}]}";
  private static final String CREATED =
      "{\"creation_time\":\"2026-03-01T10:00:00.123Z\",\"expires_at\":-1,\"id\":1,"
          + "\"name\":\"robot$proj+ci\",\"secret\":\"Abcdefgh12345678Abcdefgh12345678\"}\n";
  private static final String ERRORS =
      "{\"errors\":[{\"code\":\"CONFLICT\",\"message\":\"robot account 1:proj+ci already"
          + " exists\"}]}\n";

  private final HttpClient http = HttpClient.newHttpClient();
  private HarborEmulator harbor;
  private HarborContract contract;

  @BeforeEach
  void start() {
    harbor = HarborEmulator.start();
    harbor.createProject("proj");
    // a contract of its own, so that the violations this test provokes stay here
    contract = new HarborContract("HarborContractTest");
    harbor.setExchangeObserver(contract);
  }

  @AfterEach
  void stop() {
    harbor.close();
  }

  // ---------------------------------------------------------------------------------------------
  // requests

  @Test
  void aWellFormedExchangeIsAccepted() {
    assertThat(
            HarborContract.check(exchange("POST", "/api/v2.0/robots", VALID_CREATE, 201, CREATED)))
        .isEmpty();
    assertThat(
            HarborContract.check(exchange("POST", "/api/v2.0/robots/", VALID_CREATE, 409, ERRORS)))
        .as("409 on create is an allowed departure")
        .isEmpty();
  }

  @Test
  void aDurationSentAsAStringIsCaught() {
    String body = VALID_CREATE.replace("\"duration\":-1", "\"duration\":\"-1\"");

    List<Violation> found =
        HarborContract.check(exchange("POST", "/api/v2.0/robots", body, 201, CREATED));

    assertThat(found)
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.side()).isEqualTo(Side.REQUEST);
              assertThat(v.key()).isEqualTo("validation.request.body.schema.type");
              assertThat(v.message()).contains("/duration").contains("integer");
              assertThat(v.toString()).startsWith("POST /api/v2.0/robots -> 201 [request]");
            });
  }

  @Test
  void aPatchWithoutBodyAndAnUnknownFieldAreCaught() {
    assertThat(HarborContract.check(exchange("PATCH", "/api/v2.0/robots/1", "", 200, "{}")))
        .extracting(Violation::key)
        .containsExactly("validation.request.body.missing");

    String typo = VALID_CREATE.replace("\"level\"", "\"levle\"");
    assertThat(HarborContract.check(exchange("POST", "/api/v2.0/robots", typo, 201, CREATED)))
        .extracting(Violation::key)
        .containsExactly("validation.request.body.schema.additionalProperties");
  }

  @Test
  void badParametersAndAMissingContentTypeAreCaught() {
    assertThat(
            HarborContract.check(
                exchange("GET", "/api/v2.0/robots", "page_size=500", Map.of(), "", 200, "[]\n")))
        .extracting(Violation::key)
        .containsExactly("validation.request.parameter.schema.maximum");
    assertThat(HarborContract.check(exchange("DELETE", "/api/v2.0/robots/abc", "", 200, "")))
        .extracting(Violation::key)
        .containsExactly("validation.request.parameter.schema.type");
    assertThat(
            HarborContract.check(
                exchange("POST", "/api/v2.0/robots", null, Map.of(), VALID_CREATE, 201, CREATED)))
        .extracting(Violation::key)
        .containsExactly("harbor.request.contentType.missing");
    assertThat(
            HarborContract.check(exchange("POST", "/api/v2.0/robotz", VALID_CREATE, 404, ERRORS)))
        .extracting(Violation::key)
        .containsExactly("validation.request.path.missing");
  }

  // ---------------------------------------------------------------------------------------------
  // responses

  @Test
  void aMalformedResponseIsCaught() {
    String idAsText = CREATED.replace("\"id\":1", "\"id\":\"1\"");
    assertThat(
            HarborContract.check(exchange("POST", "/api/v2.0/robots", VALID_CREATE, 201, idAsText)))
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.side()).isEqualTo(Side.RESPONSE);
              assertThat(v.key()).isEqualTo("validation.response.body.schema.type");
            });

    String robotWithExtra =
        "{\"id\":1,\"name\":\"robot$proj+ci\",\"disable\":false,\"editable\":true,"
            + "\"disabled\":false}";
    assertThat(HarborContract.check(exchange("GET", "/api/v2.0/robots/1", "", 200, robotWithExtra)))
        .extracting(Violation::key)
        .containsExactly("validation.response.body.schema.additionalProperties");
  }

  @Test
  void onlyTheDocumentedDeparturesAreAllowed() {
    assertThat(HarborContract.check(exchange("DELETE", "/api/v2.0/robots/1", "", 409, ERRORS)))
        .as("409 is not a departure for DELETE")
        .extracting(Violation::key)
        .containsExactly("validation.response.status.unknown");
    assertThat(HarborContract.check(exchange("POST", "/api/v2.0/robots", VALID_CREATE, 409, "{}")))
        .as("an allowed status still needs Harbor's error body")
        .extracting(Violation::key)
        .containsExactly("harbor.errors.body");
    assertThat(HarborContract.check(exchange("GET", "/api/v2.0/robots/1", "", 429, ERRORS)))
        .as("429 from Harbor itself is not documented")
        .extracting(Violation::key)
        .containsExactly("validation.response.status.unknown");
    RecordedExchange injected =
        new RecordedExchange(
            Instant.now(),
            "GET",
            "/api/v2.0/robots/1",
            null,
            Map.of(),
            new byte[0],
            429,
            Map.of("Content-Type", List.of("application/json")),
            ERRORS.getBytes(StandardCharsets.UTF_8),
            true);
    assertThat(HarborContract.check(injected)).as("an injected 429 is").isEmpty();
    assertThat(HarborContract.check(exchange("GET", "/api/v2.0/robots", "", 403, ERRORS)))
        .isEmpty();
    assertThat(HarborContract.check(exchange("GET", "/v2/", "", 418, "not json")))
        .as("not in the API swagger")
        .isEmpty();
    assertThat(HarborContract.DEPARTURES)
        .allSatisfy(
            d -> {
              assertThat(d.why()).isNotBlank();
              assertThat(d.source()).contains("ROBOT_API.md");
            });
  }

  @Test
  void aLostResponseStillHasItsRequestChecked() {
    RecordedExchange lost =
        new RecordedExchange(
            Instant.now(),
            "PATCH",
            "/api/v2.0/robots/1",
            null,
            Map.of("Content-Type", List.of("application/json")),
            "{\"secret\":5}".getBytes(StandardCharsets.UTF_8),
            RecordedExchange.NO_RESPONSE,
            Map.of(),
            new byte[0],
            true);

    assertThat(HarborContract.check(lost))
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.key()).isEqualTo("validation.request.body.schema.type");
              assertThat(v.toString()).contains("-> no response (injected)");
            });
  }

  @Test
  void secretsNeverShowInMessages() {
    String secret = "S3cretValueXyz";
    String leaky =
        CREATED
            .replace("2026-03-01T10:00:00.123Z", secret)
            .replace("Abcdefgh12345678Abcdefgh12345678", secret);
    Map<String, List<String>> headers = new LinkedHashMap<>();
    headers.put("Content-Type", List.of("application/json"));
    headers.put("Authorization", List.of(basic(ADMIN, PASSWORD)));

    List<Violation> found =
        HarborContract.check(
            exchange("POST", "/api/v2.0/robots", null, headers, VALID_CREATE, 201, leaky));

    assertThat(found).isNotEmpty();
    assertThat(found).allSatisfy(v -> assertThat(v.toString()).doesNotContain(secret, PASSWORD));
    assertThat(found).anySatisfy(v -> assertThat(v.message()).contains("***"));
  }

  // ---------------------------------------------------------------------------------------------
  // end to end through the emulator

  @Test
  void theEmulatorsExchangesAreCollectedAndMalformedRequestsCanBeExpected() throws Exception {
    assertThat(post(VALID_CREATE).statusCode()).isEqualTo(201);
    assertThat(post(VALID_CREATE).statusCode()).isEqualTo(409);
    assertThat(contract.violations()).isEmpty();

    String wrong = VALID_CREATE.replace("\"duration\":-1", "\"duration\":\"x\"");
    assertThat(post(wrong).statusCode()).isEqualTo(422);
    assertThat(contract.takeViolations())
        .singleElement()
        .satisfies(v -> assertThat(v.target()).isEqualTo("/api/v2.0/robots"));
    assertThat(contract.violations()).isEmpty();

    List<Violation> expected = new ArrayList<>();
    int status = contract.expectRequestViolations(() -> postUnchecked(wrong), expected);
    assertThat(status).isEqualTo(422);
    assertThat(expected)
        .extracting(Violation::key)
        .containsExactly("validation.request.body.schema.type");
    assertThat(contract.violations()).isEmpty();

    assertThatThrownBy(() -> contract.expectRequestViolations(() -> postUnchecked(VALID_CREATE)))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("accepted it");
    assertThat(HarborContract.of(harbor)).isSameAs(contract);
  }

  @Test
  void everyRouteTheEmulatorServesAnswersWithinTheSwaggerOrADocumentedDeparture() throws Exception {
    Map<String, String> asAdmin = Map.of("Authorization", basic(ADMIN, PASSWORD));
    assertThat(call("GET", "/api/v2.0/ping", null, Map.of())).isEqualTo(200);
    assertThat(call("GET", "/api/v2.0/health", null, Map.of())).isEqualTo(200);
    assertThat(call("GET", "/api/v2.0/systeminfo", null, Map.of())).isEqualTo(200);
    assertThat(call("GET", "/api/v2.0/systeminfo", null, asAdmin)).isEqualTo(200);
    assertThat(call("GET", "/api/v2.0/permissions", null, asAdmin)).isEqualTo(200);
    assertThat(call("GET", "/api/v2.0/permissions", null, Map.of())).isEqualTo(401);
    assertThat(call("GET", "/api/v2.0/projects/proj", null, asAdmin)).isEqualTo(200);
    assertThat(call("GET", "/api/v2.0/projects/nope", null, asAdmin)).isEqualTo(404);
    assertThat(call("GET", "/api/v2.0/projects/proj", null, Map.of())).isEqualTo(401);

    assertThat(post(VALID_CREATE).statusCode()).isEqualTo(201);
    assertThat(post(VALID_CREATE.replace("\"ci\"", "\"" + "a".repeat(300) + "\"")).statusCode())
        .isEqualTo(500);
    assertThat(
            post(VALID_CREATE.replace("\"namespace\":\"proj\"", "\"namespace\":\"nope\""))
                .statusCode())
        .isEqualTo(404);
    assertThat(call("POST", "/api/v2.0/robots", VALID_CREATE, Map.of())).isEqualTo(401);
    long id = harbor.findRobot("proj", "ci").orElseThrow().id();
    String q = "?q=Level%3Dproject%2CProjectID%3D" + harbor.projectId("proj").orElseThrow();
    assertThat(call("GET", "/api/v2.0/robots" + q + "&page_size=1&page=1", null, asAdmin))
        .isEqualTo(200);
    assertThat(call("GET", "/api/v2.0/robots?q=Level%3Dproject", null, asAdmin)).isEqualTo(400);
    assertThat(call("GET", "/api/v2.0/robots", null, Map.of())).isEqualTo(401);
    assertThat(call("GET", "/api/v2.0/robots/" + id, null, asAdmin)).isEqualTo(200);
    assertThat(call("GET", "/api/v2.0/robots/999", null, asAdmin)).isEqualTo(404);
    assertThat(call("PATCH", "/api/v2.0/robots/" + id, "{}", asAdmin)).isEqualTo(200);
    assertThat(call("PATCH", "/api/v2.0/robots/" + id, "{\"secret\":\"weak\"}", asAdmin))
        .isEqualTo(400);
    harbor.setReadOnly(true);
    assertThat(call("DELETE", "/api/v2.0/robots/" + id, null, asAdmin)).isEqualTo(403);
    harbor.setReadOnly(false);
    assertThat(call("DELETE", "/api/v2.0/robots/" + id, null, asAdmin)).isEqualTo(200);
    assertThat(call("DELETE", "/api/v2.0/robots/" + id, null, asAdmin)).isEqualTo(404);
    assertThat(call("GET", "/v2/", null, Map.of())).isEqualTo(401);

    assertThat(contract.violations()).isEmpty();
  }

  @Test
  void injectedFaultsAreAllowedButOnlyAsInjected() throws Exception {
    harbor.failNext("POST", "/api/v2\\.0/robots", 429, 1, Duration.ofSeconds(1));
    harbor.setVersion("v2.1.0");

    assertThat(post(VALID_CREATE).statusCode()).isEqualTo(429);
    assertThat(post(VALID_CREATE).statusCode()).as("no robot API before 2.2").isEqualTo(404);

    assertThat(contract.violations()).isEmpty();
  }

  @Test
  void aMissingSwaggerFailsWithWhereItWasLookedFor() {
    String before = System.getProperty(HarborContract.SWAGGER_PROPERTY);
    System.setProperty(HarborContract.SWAGGER_PROPERTY, "no/such/swagger.yaml");
    try {
      assertThatThrownBy(HarborContract::swaggerPath)
          .isInstanceOf(AssertionError.class)
          .hasMessageContaining(
              Path.of("no/such/swagger.yaml").toAbsolutePath().normalize().toString())
          .hasMessageContaining("-Dharbor.swagger");
    } finally {
      if (before == null) {
        System.clearProperty(HarborContract.SWAGGER_PROPERTY);
      } else {
        System.setProperty(HarborContract.SWAGGER_PROPERTY, before);
      }
    }
    assertThat(HarborContract.swaggerPath()).isRegularFile().hasFileName("swagger.yaml");
  }

  // ---------------------------------------------------------------------------------------------
  // helpers

  private java.net.http.HttpResponse<String> post(String body)
      throws IOException, InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(harbor.baseUrl() + "/api/v2.0/robots"))
            .header("Content-Type", "application/json")
            .header("Authorization", basic(ADMIN, PASSWORD))
            .POST(BodyPublishers.ofString(body))
            .build();
    return http.send(request, BodyHandlers.ofString());
  }

  private int call(String method, String path, String body, Map<String, String> headers)
      throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(harbor.baseUrl() + path))
            .method(method, body == null ? BodyPublishers.noBody() : BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    headers.forEach(b::header);
    return http.send(b.build(), BodyHandlers.ofString()).statusCode();
  }

  private int postUnchecked(String body) {
    try {
      return post(body).statusCode();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static RecordedExchange exchange(
      String method, String path, String requestBody, int status, String responseBody) {
    Map<String, List<String>> headers =
        requestBody.isEmpty() ? Map.of() : Map.of("Content-Type", List.of("application/json"));
    return exchange(method, path, null, headers, requestBody, status, responseBody);
  }

  private static RecordedExchange exchange(
      String method,
      String path,
      String query,
      Map<String, List<String>> requestHeaders,
      String requestBody,
      int status,
      String responseBody) {
    Map<String, List<String>> responseHeaders =
        responseBody.isEmpty() ? Map.of() : Map.of("Content-Type", List.of("application/json"));
    return new RecordedExchange(
        Instant.now(),
        method,
        path,
        query,
        requestHeaders,
        requestBody.getBytes(StandardCharsets.UTF_8),
        status,
        responseHeaders,
        responseBody.getBytes(StandardCharsets.UTF_8),
        false);
  }

  private static String basic(String user, String password) {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }
}
