package io.harborrobot.operator.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.harborrobot.operator.TestClock;
import io.harborrobot.operator.harbor.contract.HarborContract;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class HarborEmulatorTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String ADMIN = "admin";
  private static final String PASSWORD = "Harbor12345";
  private static final Instant T0 = Instant.parse("2026-03-01T10:00:00.123Z");
  private static final long DAY = 86_400;

  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private HarborEmulator harbor;
  private TestClock clock;
  private long projectId;

  @BeforeEach
  void startHarbor() {
    harbor = HarborEmulator.start();
    clock = TestClock.fixed(T0);
    harbor.setClock(clock);
    projectId = harbor.createProject("proj");
  }

  @AfterEach
  void stopHarbor() {
    harbor.close();
  }

  // ---------------------------------------------------------------------------------------------
  // create

  @Test
  void createAnswers201WithLocationAndAOneTimeSecretThatLogsIn() throws Exception {
    Resp created =
        admin("POST", "/api/v2.0/robots", robot("ci", "proj", 30, "repository:pull").toString());

    assertThat(created.status()).isEqualTo(201);
    long id = created.json().get("id").asLong();
    assertThat(created.header("Location")).isEqualTo("/api/v2.0/robots/" + id);
    assertThat(created.json().get("name").asText()).isEqualTo("robot$proj+ci");
    assertThat(created.json().get("creation_time").asText()).isEqualTo("2026-03-01T10:00:00.123Z");
    assertThat(created.json().get("expires_at").asLong()).isEqualTo(T0.getEpochSecond() + 30 * DAY);
    String secret = created.json().get("secret").asText();
    assertThat(secret)
        .matches("[a-zA-Z0-9]{32}")
        .matches(".*[a-z].*")
        .matches(".*[A-Z].*")
        .matches(".*[0-9].*");
    assertThat(registryLogin("robot$proj+ci", secret).status()).isEqualTo(200);
    assertThat(harbor.credentialsWork("robot$proj+ci", secret)).isTrue();

    Resp got = admin("GET", "/api/v2.0/robots/" + id, null);
    assertThat(got.status()).isEqualTo(200);
    assertThat(got.json().has("secret")).isFalse();
    assertThat(got.body()).doesNotContain(secret);
    assertThat(got.json().get("name").asText()).isEqualTo("robot$proj+ci");
    assertThat(got.json().get("level").asText()).isEqualTo("project");
    assertThat(got.json().get("duration").asLong()).isEqualTo(30);
    assertThat(got.json().get("editable").asBoolean()).isTrue();
    assertThat(got.json().get("disable").asBoolean()).isFalse();
    assertThat(got.json().get("description").asText()).isEqualTo("made by a test");
    assertThat(pairs(got.json())).containsExactly("repository:pull");
    assertThat(got.json().at("/permissions/0/namespace").asText()).isEqualTo("proj");
    assertThat(got.json().at("/permissions/0/access/0/effect").asText()).isEqualTo("allow");

    EmulatedRobot stored = harbor.robot(id).orElseThrow();
    assertThat(stored.project()).isEqualTo("proj");
    assertThat(stored.storedName()).isEqualTo("proj+ci");
    assertThat(stored.fullName()).isEqualTo("robot$proj+ci");
    assertThat(stored.permissions()).containsExactly("repository:pull");
  }

  @Test
  void aSecondCreateWithTheSameNameIs409() throws Exception {
    String body = robot("ci", "proj", -1, "repository:pull").toString();
    assertThat(admin("POST", "/api/v2.0/robots", body).status()).isEqualTo(201);

    Resp again = admin("POST", "/api/v2.0/robots", body);

    assertThat(again.status()).isEqualTo(409);
    assertThat(again.errorCode()).isEqualTo("CONFLICT");
    assertThat(again.errorMessage())
        .isEqualTo("robot account " + projectId + ":proj+ci already exists");
    assertThat(harbor.robots()).hasSize(1);
  }

  @Test
  void robotNamesMustBeLowerCaseWithSingleSeparators() throws Exception {
    for (String name : List.of("CI", "a+b", "-ci", "ci-", "a..b", "", "ci bot")) {
      Resp r = admin("POST", "/api/v2.0/robots", robot(name, "proj", 1, "repository:pull"));
      assertThat(r.status()).as(name).isEqualTo(400);
      assertThat(r.errorMessage())
          .isEqualTo("robot name is not in lower case or contains illegal characters");
    }
    assertThat(admin("POST", "/api/v2.0/robots", robot("a.b_c-1", "proj", 1, "repository:pull")))
        .extracting(Resp::status)
        .isEqualTo(201);
  }

  @Test
  void durationMustBeMinusOneOrPositive() throws Exception {
    Resp zero = admin("POST", "/api/v2.0/robots", robot("ci", "proj", 0, "repository:pull"));
    assertThat(zero.status()).isEqualTo(400);
    assertThat(zero.errorMessage())
        .isEqualTo(
            "bad request error duration input: 0, duration must be either -1(Never) or a positive"
                + " integer");

    ObjectNode missing = robot("ci", "proj", 1, "repository:pull");
    missing.remove("duration");
    Resp absent = admin("POST", "/api/v2.0/robots", missing.toString());
    assertThat(absent.status()).isEqualTo(400);
    assertThat(absent.errorMessage()).startsWith("bad request error duration input: 0,");

    assertThat(admin("POST", "/api/v2.0/robots", robot("ci", "proj", -2, "repository:pull")))
        .extracting(Resp::status)
        .isEqualTo(400);
    assertThat(
            admin("POST", "/api/v2.0/robots", robot("ci", "proj", Integer.MAX_VALUE, "tag:list")))
        .extracting(Resp::status)
        .isEqualTo(400);
    assertThat(harbor.robots()).isEmpty();
  }

  @Test
  void secretAndDisableInTheCreateBodyAreIgnored() throws Exception {
    ObjectNode body = robot("ci", "proj", -1, "repository:pull");
    body.put("secret", "MyOwnSecret123");
    body.put("disable", true);

    Resp created = admin("POST", "/api/v2.0/robots", body.toString());

    assertThat(created.status()).isEqualTo(201);
    String generated = created.json().get("secret").asText();
    assertThat(generated).isNotEqualTo("MyOwnSecret123");
    assertThat(registryLogin("robot$proj+ci", "MyOwnSecret123").status()).isEqualTo(401);
    assertThat(registryLogin("robot$proj+ci", generated).status()).isEqualTo(200);
    long id = created.json().get("id").asLong();
    assertThat(admin("GET", "/api/v2.0/robots/" + id, null).json().get("disable").asBoolean())
        .isFalse();
  }

  @Test
  void aMissingProjectIs404() throws Exception {
    Resp r = admin("POST", "/api/v2.0/robots", robot("ci", "nope", 1, "repository:pull"));

    assertThat(r.status()).isEqualTo(404);
    assertThat(r.errorCode()).isEqualTo("NOT_FOUND");
    assertThat(r.errorMessage()).isEqualTo("project nope not found");
  }

  @Test
  void permissionsAreCheckedAgainstHarborsAllowlist() throws Exception {
    Resp wildcard = admin("POST", "/api/v2.0/robots", robot("ci", "proj", 1, "repository:*"));
    assertThat(wildcard.status()).isEqualTo(400);
    assertThat(wildcard.errorMessage()).isEqualTo("bad request permission: repository:*");

    Resp helm = admin("POST", "/api/v2.0/robots", robot("ci", "proj", 1, "helm-chart:read"));
    assertThat(helm.errorMessage()).isEqualTo("bad request permission: helm-chart:read");

    Resp robotUpdate = admin("POST", "/api/v2.0/robots", robot("ci", "proj", 1, "robot:update"));
    assertThat(robotUpdate.status()).isEqualTo(400);

    ObjectNode badKind = robot("ci", "proj", 1, "repository:pull");
    ((ObjectNode) badKind.at("/permissions/0")).put("kind", "cluster");
    assertThat(admin("POST", "/api/v2.0/robots", badKind.toString()).errorMessage())
        .isEqualTo("bad request permission level: cluster");

    ObjectNode twoEntries = robot("ci", "proj", 1, "repository:pull");
    ((ArrayNode) twoEntries.get("permissions")).add(twoEntries.at("/permissions/0").deepCopy());
    assertThat(admin("POST", "/api/v2.0/robots", twoEntries.toString()).errorMessage())
        .isEqualTo("bad request permission");

    ObjectNode noAccess = robot("ci", "proj", 1, "repository:pull");
    ((ObjectNode) noAccess.at("/permissions/0")).putArray("access");
    assertThat(admin("POST", "/api/v2.0/robots", noAccess.toString()).errorMessage())
        .isEqualTo("bad request empty access");

    ObjectNode noPermissions = robot("ci", "proj", 1, "repository:pull");
    noPermissions.putArray("permissions");
    assertThat(admin("POST", "/api/v2.0/robots", noPermissions.toString()).errorMessage())
        .isEqualTo("bad request empty permission");
    assertThat(harbor.robots()).isEmpty();
  }

  @Test
  void bodyValidationRunsBeforeAuthentication() throws Exception {
    Resp badName =
        send("POST", "/api/v2.0/robots", robot("BAD", "proj", 1, "tag:list").toString(), Map.of());
    assertThat(badName.status()).isEqualTo(400);

    Resp valid =
        send("POST", "/api/v2.0/robots", robot("ok", "proj", 1, "tag:list").toString(), Map.of());
    assertThat(valid.status()).isEqualTo(401);
    assertThat(valid.errorCode()).isEqualTo("UNAUTHORIZED");
    assertThat(valid.header("WWW-Authenticate")).isNull();
    assertThat(harbor.robots()).isEmpty();
  }

  @Test
  void bindingFailuresAre422() throws Exception {
    Resp noBody = malformed(() -> admin("POST", "/api/v2.0/robots", null));
    assertThat(noBody.status()).isEqualTo(422);
    assertThat(noBody.errorCode()).isEqualTo("UNPROCESSABLE_ENTITY");
    assertThat(noBody.errorMessage()).contains("robot in body is required");

    assertThat(malformed(() -> admin("POST", "/api/v2.0/robots", "{\"name\": ")).status())
        .isEqualTo(422);

    ObjectNode wrongType = robot("ci", "proj", 1, "tag:list");
    wrongType.put("duration", "30");
    assertThat(malformed(() -> admin("POST", "/api/v2.0/robots", wrongType.toString())).status())
        .isEqualTo(422);

    ObjectNode wrongDisable = robot("ci", "proj", 1, "tag:list");
    wrongDisable.put("disable", "yes");
    assertThat(malformed(() -> admin("POST", "/api/v2.0/robots", wrongDisable.toString())).status())
        .isEqualTo(422);

    Resp noContentType =
        malformed(
            () ->
                sendRaw(
                    "POST",
                    "/api/v2.0/robots",
                    robot("ci", "proj", 1, "tag:list").toString(),
                    Map.of("Authorization", basic(ADMIN, PASSWORD))));
    assertThat(noContentType.status()).isEqualTo(422);
    assertThat(noContentType.errorMessage()).contains("unsupported media type");

    Resp badId = malformed(() -> admin("GET", "/api/v2.0/robots/abc", null));
    assertThat(badId.status()).isEqualTo(422);
    assertThat(badId.errorMessage()).contains("robot_id in path must be of type int64: \"abc\"");
    assertThat(harbor.robots()).isEmpty();
  }

  @Test
  void overlongNamesFailInTheDatabaseWith500() throws Exception {
    Resp r = admin("POST", "/api/v2.0/robots", robot("a".repeat(251), "proj", 1, "tag:list"));

    assertThat(r.status()).isEqualTo(500);
    assertThat(r.errorCode()).isEqualTo("UNKNOWN");
    assertThat(r.errorMessage()).isEqualTo("internal server error");
  }

  // ---------------------------------------------------------------------------------------------
  // auth

  @Test
  void wrongCredentialsAre401AndLockTheUsername() throws Exception {
    Resp wrong = send("GET", "/api/v2.0/projects/proj", null, auth(ADMIN, "wrong"));
    assertThat(wrong.status()).isEqualTo(401);
    assertThat(wrong.json().toString())
        .isEqualTo("{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"unauthorized\"}]}");
    assertThat(harbor.isLockedOut(ADMIN)).isTrue();

    assertThat(admin("GET", "/api/v2.0/projects/proj", null).status()).isEqualTo(401);

    clock.advance(Duration.ofMillis(1501));
    Resp afterLockout = admin("GET", "/api/v2.0/projects/proj", null);
    assertThat(afterLockout.status()).isEqualTo(200);
    assertThat(afterLockout.json().get("project_id").asLong()).isEqualTo(projectId);
    assertThat(afterLockout.json().get("name").asText()).isEqualTo("proj");
  }

  @Test
  void aZeroLockoutDisablesIt() throws Exception {
    harbor.setLoginLockout(Duration.ZERO);

    assertThat(send("GET", "/api/v2.0/projects/proj", null, auth(ADMIN, "x")).status())
        .isEqualTo(401);
    assertThat(admin("GET", "/api/v2.0/projects/proj", null).status()).isEqualTo(200);
    assertThat(send("GET", "/api/v2.0/projects/proj", null, Map.of()).status()).isEqualTo(401);
    assertThat(admin("GET", "/api/v2.0/projects/nope", null).status()).isEqualTo(404);
  }

  @Test
  void aFailedRobotLoginLocksTheNameButTheRightSecretStillGetsIn() throws Exception {
    Resp created = admin("POST", "/api/v2.0/robots", robot("ci", "proj", -1, "repository:pull"));
    String secret = created.json().get("secret").asText();

    assertThat(registryLogin("robot$proj+ci", "Wrong-Secret-1").status()).isEqualTo(401);

    assertThat(harbor.isLockedOut("robot$proj+ci")).isTrue();
    assertThat(registryLogin("robot$proj+ci", secret).status()).isEqualTo(200);
  }

  @Test
  void theRegistryLoginCheckChallengesLikeHarbor() throws Exception {
    Resp anonymous = send("GET", "/v2/", null, Map.of());
    assertThat(anonymous.status()).isEqualTo(401);
    assertThat(anonymous.header("WWW-Authenticate"))
        .isEqualTo(
            "Bearer realm=\"" + harbor.baseUrl() + "/service/token\",service=\"harbor-registry\"");

    Resp wrong = registryLogin("robot$proj+nobody", "Secret123abc");
    assertThat(wrong.status()).isEqualTo(401);
    assertThat(wrong.header("WWW-Authenticate")).isEqualTo("Basic realm=\"harbor\"");

    Resp adminLogin = registryLogin(ADMIN, PASSWORD);
    assertThat(adminLogin.status()).isEqualTo(200);
    assertThat(adminLogin.body().trim()).isEqualTo("{}");
  }

  @Test
  void theRequestIdIsEchoedOrGenerated() throws Exception {
    Resp given =
        send(
            "GET",
            "/api/v2.0/systeminfo",
            null,
            Map.of("X-Request-Id", "req-42", "Authorization", basic(ADMIN, PASSWORD)));
    assertThat(given.header("X-Request-Id")).isEqualTo("req-42");

    Resp generated = admin("GET", "/api/v2.0/robots/999", null);
    assertThat(generated.status()).isEqualTo(404);
    assertThat(generated.errorMessage()).isEqualTo("robot 999 not found");
    assertThat(generated.header("X-Request-Id")).matches("[0-9a-f-]{36}");
  }

  @Test
  void systemInfoHidesVersionAndUrlsFromAnonymousCallers() throws Exception {
    Resp anonymous = send("GET", "/api/v2.0/systeminfo", null, Map.of());
    assertThat(anonymous.status()).isEqualTo(200);
    assertThat(anonymous.json().has("harbor_version")).isFalse();
    assertThat(anonymous.json().has("registry_url")).isFalse();
    assertThat(anonymous.json().has("external_url")).isFalse();

    JsonNode info = admin("GET", "/api/v2.0/systeminfo", null).json();
    assertThat(info.get("harbor_version").asText()).matches("v2\\.15\\.2-[0-9a-f]{8}");
    assertThat(info.get("external_url").asText()).isEqualTo(harbor.baseUrl());
    assertThat(info.get("registry_url").asText()).isEqualTo(harbor.registryHost());
    assertThat(harbor.registryHost()).isEqualTo(harbor.baseUrl().substring("http://".length()));
  }

  // ---------------------------------------------------------------------------------------------
  // PATCH

  @Test
  void patchWithAChosenSecretReplacesTheOldOne() throws Exception {
    Resp created = admin("POST", "/api/v2.0/robots", robot("ci", "proj", 7, "repository:pull"));
    long id = created.json().get("id").asLong();
    String old = created.json().get("secret").asText();

    Resp patched = admin("PATCH", "/api/v2.0/robots/" + id, "{\"secret\":\"NewSecret123\"}");

    assertThat(patched.status()).isEqualTo(200);
    assertThat(patched.json().toString()).isEqualTo("{}");
    assertThat(registryLogin("robot$proj+ci", old).status()).isEqualTo(401);
    assertThat(registryLogin("robot$proj+ci", "NewSecret123").status()).isEqualTo(200);
    EmulatedRobot r = harbor.robot(id).orElseThrow();
    assertThat(r.expiresAt()).isEqualTo(T0.getEpochSecond() + 7 * DAY);
    assertThat(r.disabled()).isFalse();
  }

  @Test
  void patchRejectsSecretsThatAreTooSimple() throws Exception {
    Resp created = admin("POST", "/api/v2.0/robots", robot("ci", "proj", 7, "repository:pull"));
    long id = created.json().get("id").asLong();
    String secret = created.json().get("secret").asText();

    for (String weak :
        List.of(
            "Short1a", "alllowercase1", "ALLUPPERCASE1", "NoDigitsHere", "A1" + "b".repeat(127))) {
      Resp r = admin("PATCH", "/api/v2.0/robots/" + id, "{\"secret\":\"" + weak + "\"}");
      assertThat(r.status()).as(weak).isEqualTo(400);
      assertThat(r.errorMessage())
          .isEqualTo(
              "the secret must be 8-128, inclusively, characters long with at least 1 uppercase"
                  + " letter, 1 lowercase letter and 1 number");
    }
    assertThat(registryLogin("robot$proj+ci", secret).status()).isEqualTo(200);

    Resp noBody = malformed(() -> admin("PATCH", "/api/v2.0/robots/" + id, null));
    assertThat(noBody.status()).isEqualTo(422);
    assertThat(noBody.errorMessage()).contains("robotSec in body is required");
  }

  @Test
  void patchWithAnEmptyBodyGeneratesANewSecret() throws Exception {
    Resp created = admin("POST", "/api/v2.0/robots", robot("ci", "proj", 7, "repository:pull"));
    long id = created.json().get("id").asLong();
    String old = created.json().get("secret").asText();

    Resp patched = admin("PATCH", "/api/v2.0/robots/" + id, "{}");

    assertThat(patched.status()).isEqualTo(200);
    String fresh = patched.json().get("secret").asText();
    assertThat(fresh).matches("[a-zA-Z0-9]{32}").isNotEqualTo(old);
    assertThat(registryLogin("robot$proj+ci", fresh).status()).isEqualTo(200);
    assertThat(registryLogin("robot$proj+ci", old).status()).isEqualTo(401);

    Resp emptySecret = admin("PATCH", "/api/v2.0/robots/" + id, "{\"secret\":\"\"}");
    assertThat(emptySecret.json().get("secret").asText()).hasSize(32).isNotEqualTo(fresh);
  }

  // ---------------------------------------------------------------------------------------------
  // PUT

  @Test
  void putNeedsTheFullCurrentNameAndTheSameLevel() throws Exception {
    long id = createAndGetId("ci", 7);
    ObjectNode body = (ObjectNode) admin("GET", "/api/v2.0/robots/" + id, null).json();

    body.put("name", "ci");
    Resp shortName = admin("PUT", "/api/v2.0/robots/" + id, body.toString());
    assertThat(shortName.status()).isEqualTo(400);
    assertThat(shortName.errorMessage()).isEqualTo("cannot update the level or name of robot");

    body.put("name", "robot$proj+ci");
    body.put("level", "system");
    assertThat(admin("PUT", "/api/v2.0/robots/" + id, body.toString()).errorMessage())
        .isEqualTo("cannot update the level or name of robot");

    body.put("level", "project");
    Resp ok = admin("PUT", "/api/v2.0/robots/" + id, body.toString());
    assertThat(ok.status()).isEqualTo(200);
    assertThat(ok.body()).isEmpty();
  }

  @Test
  void putCannotMoveARobotToAnotherProject() throws Exception {
    long id = createAndGetId("ci", 7);
    harbor.createProject("other");
    ObjectNode body = (ObjectNode) admin("GET", "/api/v2.0/robots/" + id, null).json();
    ((ObjectNode) body.at("/permissions/0")).put("namespace", "other");

    Resp r = admin("PUT", "/api/v2.0/robots/" + id, body.toString());

    assertThat(r.status()).isEqualTo(400);
    assertThat(r.errorMessage()).isEqualTo("cannot update the project id of robot");
  }

  @Test
  void putClearsAnOmittedDescriptionAndEnablesWhenDisableIsOmitted() throws Exception {
    long id = createAndGetId("ci", 7);
    harbor.setDisabledByHand(id, true);
    ObjectNode body = (ObjectNode) admin("GET", "/api/v2.0/robots/" + id, null).json();
    assertThat(body.get("disable").asBoolean()).isTrue();
    assertThat(body.get("description").asText()).isEqualTo("made by a test");
    body.remove("description");
    body.remove("disable");
    ((ArrayNode) body.at("/permissions/0/access"))
        .addObject()
        .put("resource", "repository")
        .put("action", "push");

    assertThat(admin("PUT", "/api/v2.0/robots/" + id, body.toString()).status()).isEqualTo(200);

    JsonNode after = admin("GET", "/api/v2.0/robots/" + id, null).json();
    assertThat(after.has("description")).isFalse();
    assertThat(after.get("disable").asBoolean()).isFalse();
    assertThat(pairs(after)).containsExactlyInAnyOrder("repository:pull", "repository:push");
    assertThat(harbor.robot(id).orElseThrow().description()).isEmpty();
  }

  @Test
  void putComputesExpiryFromTheCreationTime() throws Exception {
    long id = createAndGetId("ci", 30);
    long created = T0.getEpochSecond();
    clock.advance(Duration.ofDays(10));
    ObjectNode body = (ObjectNode) admin("GET", "/api/v2.0/robots/" + id, null).json();

    body.put("duration", 60);
    assertThat(admin("PUT", "/api/v2.0/robots/" + id, body.toString()).status()).isEqualTo(200);
    assertThat(expiresAt(id)).isEqualTo(created + 60 * DAY);

    clock.advance(Duration.ofDays(5));
    assertThat(admin("PUT", "/api/v2.0/robots/" + id, body.toString()).status()).isEqualTo(200);
    assertThat(expiresAt(id)).as("same duration keeps expires_at").isEqualTo(created + 60 * DAY);

    harbor.setExpiresAtByHand(id, created + DAY);
    body.remove("duration");
    assertThat(admin("PUT", "/api/v2.0/robots/" + id, body.toString()).status()).isEqualTo(200);
    assertThat(expiresAt(id)).as("omitted duration keeps expires_at").isEqualTo(created + DAY);
    assertThat(harbor.robot(id).orElseThrow().duration()).isEqualTo(60);

    body.put("duration", -1);
    admin("PUT", "/api/v2.0/robots/" + id, body.toString());
    assertThat(expiresAt(id)).isEqualTo(-1);

    body.put("duration", 0);
    assertThat(admin("PUT", "/api/v2.0/robots/" + id, body.toString()).status()).isEqualTo(400);
  }

  // ---------------------------------------------------------------------------------------------
  // list

  @Test
  void listFiltersByLevelAndProjectAndPaginatesLikeHarbor() throws Exception {
    for (int i = 0; i < 250; i++) {
      harbor.createRobotByHand("proj", String.format("r%03d", i), Set.of("repository:pull"), -1);
    }
    harbor.createProject("other");
    harbor.createRobotByHand("other", "elsewhere", Set.of("repository:pull"), -1);
    ObjectNode system = robot("sys", "/", -1, "catalog:read");
    system.put("level", "system");
    ((ObjectNode) system.at("/permissions/0")).put("kind", "system");
    assertThat(admin("POST", "/api/v2.0/robots", system.toString()).status()).isEqualTo(201);
    String q = "q=Level=project,ProjectID=" + projectId;

    Resp first = admin("GET", "/api/v2.0/robots?" + q, null);
    assertThat(first.status()).isEqualTo(200);
    assertThat(first.json()).hasSize(10);
    assertThat(first.header("X-Total-Count")).isEqualTo("250");
    assertThat(first.header("Link"))
        .isEqualTo(
            "</api/v2.0/robots?page=2&page_size=10&q=Level=project,ProjectID="
                + projectId
                + ">; rel=\"next\"");

    Resp middle = admin("GET", "/api/v2.0/robots?" + q + "&page=2&page_size=100", null);
    assertThat(middle.json()).hasSize(100);
    assertThat(middle.json().get(0).get("name").asText()).isEqualTo("robot$proj+r100");
    assertThat(middle.header("Link"))
        .isEqualTo(
            "</api/v2.0/robots?page=1&page_size=100&q=Level=project,ProjectID="
                + projectId
                + ">; rel=\"prev\" , </api/v2.0/robots?page=3&page_size=100&q=Level=project,"
                + "ProjectID="
                + projectId
                + ">; rel=\"next\"");

    Resp last = admin("GET", "/api/v2.0/robots?" + q + "&page=3&page_size=100", null);
    assertThat(last.json()).hasSize(50);
    assertThat(last.header("Link")).contains("rel=\"prev\"").doesNotContain("rel=\"next\"");

    List<String> names = new ArrayList<>();
    String next = "/api/v2.0/robots?" + q + "&page_size=100";
    int pages = 0;
    while (next != null) {
      Resp page = admin("GET", next, null);
      page.json().forEach(r -> names.add(r.get("name").asText()));
      next = nextLink(page.header("Link"));
      pages++;
    }
    assertThat(pages).isEqualTo(3);
    assertThat(names).hasSize(250).doesNotHaveDuplicates().isSorted();
    assertThat(names).allMatch(n -> n.startsWith("robot$proj+r"));

    Resp systemOnly = admin("GET", "/api/v2.0/robots", null);
    assertThat(systemOnly.json()).hasSize(1);
    assertThat(systemOnly.json().get(0).get("name").asText()).isEqualTo("robot$sys");
    assertThat(admin("GET", "/api/v2.0/robots?q=Level=system", null).json()).hasSize(1);

    Resp fuzzy = admin("GET", "/api/v2.0/robots?" + q + ",name=~R24", null);
    assertThat(fuzzy.header("X-Total-Count")).isEqualTo("10");
  }

  @Test
  void listRejectsBadQueries() throws Exception {
    Resp noProject = admin("GET", "/api/v2.0/robots?q=Level=project", null);
    assertThat(noProject.status()).isEqualTo(400);
    assertThat(noProject.errorMessage())
        .isEqualTo("must with project ID when to query project robots");

    Resp badProject = admin("GET", "/api/v2.0/robots?q=Level=project,ProjectID=abc", null);
    assertThat(badProject.status()).isEqualTo(400);
    assertThat(badProject.errorMessage()).isEqualTo("ProjectID must be a positive integer");
    assertThat(admin("GET", "/api/v2.0/robots?q=Level=project,ProjectID=0", null).status())
        .isEqualTo(400);

    Resp badLevel = admin("GET", "/api/v2.0/robots?q=Level=everything", null);
    assertThat(badLevel.status()).isEqualTo(400);
    assertThat(badLevel.errorMessage()).isEqualTo("bad request error level input");

    Resp tooBig = malformed(() -> admin("GET", "/api/v2.0/robots?page_size=101", null));
    assertThat(tooBig.status()).isEqualTo(422);
    assertThat(tooBig.errorMessage())
        .contains("page_size in query should be less than or equal to 100");

    Resp lowercaseLevel = admin("GET", "/api/v2.0/robots?q=level=project", null);
    assertThat(lowercaseLevel.status()).as("unknown keys are ignored").isEqualTo(200);

    assertThat(send("GET", "/api/v2.0/robots", null, Map.of()).status()).isEqualTo(401);
  }

  @Test
  void aPlusInQMustBeDoubleEscaped() throws Exception {
    harbor.createRobotByHand("proj", "ci", Set.of("repository:pull"), -1);
    String base = "/api/v2.0/robots?q=Level=project,ProjectID=" + projectId + ",name=proj";

    Resp doubleEscaped = admin("GET", base + "%252Bci", null);
    assertThat(doubleEscaped.json()).hasSize(1);
    assertThat(doubleEscaped.json().get(0).get("name").asText()).isEqualTo("robot$proj+ci");

    assertThat(admin("GET", base + "%2Bci", null).json()).as("%2B becomes a space").isEmpty();
    assertThat(admin("GET", base + "+ci", null).json()).isEmpty();
  }

  @Test
  void followingTheNextLinkUnescapesTheQueryOnceMore() throws Exception {
    for (int i = 0; i < 12; i++) {
      harbor.createRobotByHand("proj", "ci" + i, Set.of("repository:pull"), -1);
    }
    String q = "q=Level=project,ProjectID=" + projectId + ",name=~proj%252Bci";

    Resp first = admin("GET", "/api/v2.0/robots?" + q, null);
    assertThat(first.header("X-Total-Count")).isEqualTo("12");
    String next = nextLink(first.header("Link"));
    assertThat(next).endsWith("name=~proj%2Bci");

    Resp second = admin("GET", next, null);
    assertThat(second.status()).isEqualTo(200);
    assertThat(second.header("X-Total-Count"))
        .as("Harbor's Link loses the escaping")
        .isEqualTo("0");

    Resp sorted = admin("GET", "/api/v2.0/robots?" + q + "&sort=-name&page_size=1", null);
    assertThat(sorted.json().get(0).get("name").asText()).isEqualTo("robot$proj+ci9");
  }

  // ---------------------------------------------------------------------------------------------
  // prefix, expiry, disable

  @Test
  void changingThePrefixRenamesEveryRobot() throws Exception {
    Resp created = admin("POST", "/api/v2.0/robots", robot("ci", "proj", -1, "repository:pull"));
    long id = created.json().get("id").asLong();
    String secret = created.json().get("secret").asText();

    harbor.setRobotNamePrefix("bot-");

    assertThat(admin("GET", "/api/v2.0/robots/" + id, null).json().get("name").asText())
        .isEqualTo("bot-proj+ci");
    assertThat(harbor.robot(id).orElseThrow().fullName()).isEqualTo("bot-proj+ci");
    Resp oldName = registryLogin("robot$proj+ci", secret);
    assertThat(oldName.status()).isEqualTo(401);
    assertThat(oldName.header("WWW-Authenticate")).isEqualTo("Basic realm=\"harbor\"");
    assertThat(registryLogin("bot-proj+ci", secret).status()).isEqualTo(200);
  }

  @Test
  void expiredAndDisabledRobotsCannotLogIn() throws Exception {
    Resp created = admin("POST", "/api/v2.0/robots", robot("ci", "proj", 1, "repository:pull"));
    long id = created.json().get("id").asLong();
    String secret = created.json().get("secret").asText();
    assertThat(registryLogin("robot$proj+ci", secret).status()).isEqualTo(200);

    clock.advance(Duration.ofSeconds(DAY - 1));
    assertThat(harbor.credentialsWork("robot$proj+ci", secret)).isTrue();
    clock.advance(Duration.ofSeconds(1));
    assertThat(harbor.credentialsWork("robot$proj+ci", secret)).as("expires_at <= now").isFalse();
    assertThat(registryLogin("robot$proj+ci", secret).status()).isEqualTo(401);

    harbor.setExpiresAtByHand(id, -1);
    assertThat(registryLogin("robot$proj+ci", secret).status()).isEqualTo(200);
    harbor.setDisabledByHand(id, true);
    assertThat(registryLogin("robot$proj+ci", secret).status()).isEqualTo(401);
    harbor.setDisabledByHand(id, false);
    assertThat(registryLogin("robot$proj+ci", secret).status()).isEqualTo(200);
  }

  @Test
  void aDurationEditedByHandCountsFromCreationAndCanExpireTheRobotAtOnce() throws Exception {
    Resp created = admin("POST", "/api/v2.0/robots", robot("ci", "proj", 30, "repository:pull"));
    long id = created.json().get("id").asLong();
    String secret = created.json().get("secret").asText();
    clock.advance(Duration.ofDays(3));

    harbor.setDurationByHand(id, 2);

    assertThat(harbor.robot(id).orElseThrow().expiresAt()).isEqualTo(T0.getEpochSecond() + 2 * DAY);
    assertThat(registryLogin("robot$proj+ci", secret).status()).isEqualTo(401);
    harbor.setDurationByHand(id, 5);
    assertThat(registryLogin("robot$proj+ci", secret).status()).isEqualTo(200);
  }

  // ---------------------------------------------------------------------------------------------
  // faults

  @Test
  void failNextAnswersTheStatusWithoutApplyingTheRequest() throws Exception {
    harbor.failNext("POST", "/api/v2\\.0/robots", 503);
    String body = robot("ci", "proj", -1, "repository:pull").toString();

    Resp failed = admin("POST", "/api/v2.0/robots", body);

    assertThat(failed.status()).isEqualTo(503);
    assertThat(failed.errorCode()).isEqualTo("UNKNOWN");
    assertThat(failed.errorMessage()).isEqualTo("internal server error");
    assertThat(harbor.robots()).isEmpty();
    assertThat(admin("POST", "/api/v2.0/robots", body).status()).isEqualTo(201);

    harbor.failNext("DELETE", "/api/v2\\.0/robots/\\d+", 404);
    long id = harbor.robots().get(0).id();
    assertThat(admin("DELETE", "/api/v2.0/robots/" + id, null).status()).isEqualTo(404);
    assertThat(harbor.robot(id)).isPresent();
    assertThat(admin("DELETE", "/api/v2.0/robots/" + id, null).status()).isEqualTo(200);
    assertThat(harbor.robot(id)).isEmpty();
    assertThat(harbor.requestCountsByRoute())
        .containsEntry("POST /api/v2.0/robots", 2)
        .containsEntry("DELETE /api/v2.0/robots/{id}", 2);
  }

  @Test
  void aLostResponseIsAppliedButTheClientGetsNoAnswer() throws Exception {
    harbor.loseResponseNext("POST", "/api/v2\\.0/robots");
    String body = robot("ci", "proj", -1, "repository:pull").toString();

    assertThatThrownBy(() -> admin("POST", "/api/v2.0/robots", body))
        .isInstanceOf(UncheckedIOException.class)
        .hasCauseInstanceOf(IOException.class);

    assertThat(harbor.findRobot("proj", "ci")).isPresent();
    assertThat(admin("POST", "/api/v2.0/robots", body).status()).isEqualTo(409);
    assertThat(harbor.requestCountsByRoute()).containsEntry("POST /api/v2.0/robots", 2);
  }

  @Test
  void latencyDelaysResponses() throws Exception {
    harbor.setLatency(Duration.ofMillis(300));
    long start = System.nanoTime();

    assertThat(admin("GET", "/api/v2.0/systeminfo", null).status()).isEqualTo(200);

    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isGreaterThanOrEqualTo(Duration.ofMillis(300));
  }

  @Test
  void failNextWithTimesFailsThatManyMatchingRequests() throws Exception {
    long id = createAndGetId("ci", 1);
    harbor.failNext("GET", "/api/v2\\.0/robots/\\d+", 503, 2);
    assertThat(harbor.pendingFaults()).isEqualTo(2);

    assertThat(admin("GET", "/api/v2.0/systeminfo", null).status()).isEqualTo(200);
    assertThat(admin("GET", "/api/v2.0/robots/" + id, null).status()).isEqualTo(503);
    assertThat(harbor.pendingFaults()).isEqualTo(1);
    assertThat(admin("GET", "/api/v2.0/robots/" + id, null).status()).isEqualTo(503);
    assertThat(harbor.pendingFaults()).isZero();
    assertThat(admin("GET", "/api/v2.0/robots/" + id, null).status()).isEqualTo(200);

    assertThatThrownBy(() -> harbor.failNext("GET", ".*", 503, 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> harbor.failNext("GET", ".*", 302, 1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void injectedRateLimitsAndOutagesCanCarryRetryAfter() throws Exception {
    harbor.failNext("POST", "/api/v2\\.0/robots", 429, 1, Duration.ofSeconds(7));
    harbor.failNext("*", ".*", 503, 1, Duration.ofMillis(1500));
    String body = robot("ci", "proj", -1, "repository:pull").toString();

    Resp limited = admin("POST", "/api/v2.0/robots", body);
    assertThat(limited.status()).isEqualTo(429);
    assertThat(limited.header("Retry-After")).isEqualTo("7");
    assertThat(limited.errorCode()).isEqualTo("TOO_MANY_REQUEST");
    assertThat(harbor.robots()).isEmpty();

    Resp unavailable = admin("GET", "/api/v2.0/systeminfo", null);
    assertThat(unavailable.status()).isEqualTo(503);
    assertThat(unavailable.header("Retry-After")).as("rounded up").isEqualTo("2");
    assertThat(unavailable.errorMessage()).isEqualTo("internal server error");

    Resp plain = admin("POST", "/api/v2.0/robots", body);
    assertThat(plain.status()).isEqualTo(201);
    assertThat(plain.header("Retry-After")).isNull();

    assertThatThrownBy(() -> harbor.failNext("GET", ".*", 500, 1, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("429 or 503");
  }

  @Test
  void anErrorRateFailsASeededShareOfRequestsWithoutApplyingThem() throws Exception {
    harbor.setSeed(42);
    harbor.setErrorRate(0.3, 503, Duration.ofSeconds(1));

    List<Integer> statuses = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      Resp r = admin("POST", "/api/v2.0/robots", robot("r" + i, "proj", -1, "repository:pull"));
      statuses.add(r.status());
      if (r.status() == 503) {
        assertThat(r.header("Retry-After")).isEqualTo("1");
      }
    }

    assertThat(statuses).containsOnly(201, 503);
    long failed = statuses.stream().filter(s -> s == 503).count();
    assertThat(failed).isBetween(35L, 85L);
    assertThat(harbor.robots()).hasSize(200 - (int) failed);

    harbor.reset();
    harbor.createProject("proj");
    harbor.setSeed(42);
    harbor.setErrorRate(0.3, 503, Duration.ofSeconds(1));
    List<Integer> again = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      again.add(
          admin("POST", "/api/v2.0/robots", robot("r" + i, "proj", -1, "repository:pull"))
              .status());
    }
    assertThat(again).as("same seed, same faults").isEqualTo(statuses);

    harbor.setErrorRate(0, 503);
    for (int i = 0; i < 20; i++) {
      assertThat(admin("GET", "/api/v2.0/systeminfo", null).status()).isEqualTo(200);
    }
    assertThatThrownBy(() -> harbor.setErrorRate(1.5, 503))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> harbor.setErrorRate(0.5, 500, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aLostResponseRateLosesAppliedModificationsButNeverReads() throws Exception {
    harbor.setSeed(7);
    harbor.setLostResponseRate(0.5);

    int lost = 0;
    for (int i = 0; i < 40; i++) {
      try {
        Resp r = admin("POST", "/api/v2.0/robots", robot("r" + i, "proj", -1, "repository:pull"));
        assertThat(r.status()).isEqualTo(201);
      } catch (UncheckedIOException e) {
        lost++;
      }
    }
    assertThat(lost).isBetween(8, 32);
    assertThat(harbor.robots()).as("lost or not, every create was applied").hasSize(40);
    for (int i = 0; i < 30; i++) {
      assertThat(admin("GET", "/api/v2.0/robots/" + harbor.robots().get(i).id(), null).status())
          .isEqualTo(200);
    }

    harbor.setLostResponseRate(0);
    assertThat(admin("POST", "/api/v2.0/robots", robot("last", "proj", -1, "tag:list")).status())
        .isEqualTo(201);
  }

  @Test
  void latencySpikesDelayASeededShareOfResponsesAfterApplyingThem() throws Exception {
    Duration spike = Duration.ofMillis(250);
    harbor.setSeed(3);
    harbor.setLatencySpikes(1.0, spike);
    long start = System.nanoTime();
    assertThat(admin("POST", "/api/v2.0/robots", robot("ci", "proj", -1, "tag:list")).status())
        .isEqualTo(201);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(spike);

    harbor.setLatencySpikes(0.5, spike);
    int slow = 0;
    for (int i = 0; i < 12; i++) {
      long t = System.nanoTime();
      admin("GET", "/api/v2.0/systeminfo", null);
      if (Duration.ofNanos(System.nanoTime() - t).compareTo(spike) >= 0) {
        slow++;
      }
    }
    assertThat(slow).isBetween(2, 10);

    harbor.setLatencySpikes(0, spike);
    long t = System.nanoTime();
    admin("GET", "/api/v2.0/systeminfo", null);
    assertThat(Duration.ofNanos(System.nanoTime() - t)).isLessThan(spike);
  }

  @Test
  void readOnlyModeDeniesEveryModificationBeforeAnythingElse() throws Exception {
    long id = createAndGetId("ci", 7);
    harbor.setReadOnly(true);
    String denied =
        "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"The system is in read only mode. Any"
            + " modification is prohibited.\"}]}";

    Resp create = admin("POST", "/api/v2.0/robots", robot("other", "proj", -1, "tag:list"));
    assertThat(create.status()).isEqualTo(403);
    assertThat(create.json().toString()).isEqualTo(denied);
    ObjectNode body = (ObjectNode) admin("GET", "/api/v2.0/robots/" + id, null).json();
    assertThat(admin("PUT", "/api/v2.0/robots/" + id, body.toString()).status()).isEqualTo(403);
    assertThat(admin("PATCH", "/api/v2.0/robots/" + id, "{}").json().toString()).isEqualTo(denied);
    assertThat(send("DELETE", "/api/v2.0/robots/999", null, Map.of()).status())
        .as("before authentication and lookup")
        .isEqualTo(403);
    assertThat(admin("GET", "/api/v2.0/systeminfo", null).json().get("read_only").asBoolean())
        .isTrue();
    assertThat(harbor.robots()).hasSize(1);
    assertThat(harbor.isReadOnly()).isTrue();

    harbor.setReadOnly(false);
    assertThat(admin("DELETE", "/api/v2.0/robots/" + id, null).status()).isEqualTo(200);
    assertThat(admin("GET", "/api/v2.0/systeminfo", null).json().get("read_only").asBoolean())
        .isFalse();
  }

  // ---------------------------------------------------------------------------------------------
  // Harbor versions

  @Test
  void theVersionIsReportedAndValidated() throws Exception {
    assertThat(harbor.version()).isEqualTo("v2.15.2");
    harbor.setVersion("2.9.1");
    assertThat(harbor.version()).isEqualTo("v2.9.1");
    assertThat(harbor.harborVersion()).matches("v2\\.9\\.1-[0-9a-f]{8}");
    assertThat(admin("GET", "/api/v2.0/systeminfo", null).json().get("harbor_version").asText())
        .isEqualTo(harbor.harborVersion());

    for (String bad : List.of("2.9", "v2.9.x", "latest", "v1.10.0")) {
      assertThatThrownBy(() -> harbor.setVersion(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
    assertThat(harbor.version()).isEqualTo("v2.9.1");
  }

  @Test
  void beforeHarbor22ThereIsNoRobotApi() throws Exception {
    long id = createAndGetId("ci", 7);
    harbor.setVersion("v2.1.0");

    assertThat(admin("GET", "/api/v2.0/robots/" + id, null).status()).isEqualTo(404);
    assertThat(admin("GET", "/api/v2.0/robots", null).status()).isEqualTo(404);
    Resp create = admin("POST", "/api/v2.0/robots", robot("x", "proj", -1, "tag:list"));
    assertThat(create.status()).isEqualTo(404);
    assertThat(create.errorCode()).isEqualTo("NOT_FOUND");
    assertThat(admin("GET", "/api/v2.0/permissions", null).status()).isEqualTo(404);
    assertThat(admin("GET", "/api/v2.0/projects/proj", null).status()).isEqualTo(200);
    assertThat(admin("GET", "/api/v2.0/systeminfo", null).json().get("harbor_version").asText())
        .startsWith("v2.1.0-");
  }

  @Test
  void harbor22To210TakesZeroAsTheDefaultDurationAndChecksNoPermissionPairs() throws Exception {
    harbor.setVersion("v2.9.1");
    long created = T0.getEpochSecond();

    Resp zero = admin("POST", "/api/v2.0/robots", robot("zero", "proj", 0, "repository:pull"));
    assertThat(zero.status()).isEqualTo(201);
    assertThat(zero.json().get("expires_at").asLong()).isEqualTo(created + 30 * DAY);
    ObjectNode missing = robot("missing", "proj", 1, "repository:pull");
    missing.remove("duration");
    Resp omitted = admin("POST", "/api/v2.0/robots", missing.toString());
    assertThat(omitted.status()).isEqualTo(201);
    assertThat(harbor.robot(omitted.json().get("id").asLong()).orElseThrow().duration())
        .isEqualTo(30);
    assertThat(admin("POST", "/api/v2.0/robots", robot("neg", "proj", -2, "tag:list")).status())
        .isEqualTo(400);

    Resp wildcard = admin("POST", "/api/v2.0/robots", robot("old", "proj", 5, "repository:*"));
    assertThat(wildcard.status()).as("no allowlist before 2.10").isEqualTo(201);
    assertThat(admin("GET", "/api/v2.0/permissions", null).status()).isEqualTo(404);

    long id = zero.json().get("id").asLong();
    clock.advance(Duration.ofDays(3));
    ObjectNode body = (ObjectNode) admin("GET", "/api/v2.0/robots/" + id, null).json();
    body.put("duration", 60);
    assertThat(admin("PUT", "/api/v2.0/robots/" + id, body.toString()).status()).isEqualTo(200);
    assertThat(expiresAt(id)).isEqualTo(created + 60 * DAY);

    body.remove("duration");
    assertThat(admin("PUT", "/api/v2.0/robots/" + id, body.toString()).status()).isEqualTo(200);
    assertThat(expiresAt(id)).as("omitted: back to the default").isEqualTo(created + 30 * DAY);
    assertThat(harbor.robot(id).orElseThrow().duration()).isEqualTo(30);

    harbor.setExpiresAtByHand(id, created + DAY);
    body.put("duration", 0);
    assertThat(admin("PUT", "/api/v2.0/robots/" + id, body.toString()).status()).isEqualTo(200);
    assertThat(expiresAt(id)).as("0 resets too").isEqualTo(created + 30 * DAY);
  }

  @Test
  void harbor210ChecksPermissionPairsAnd211RejectsZero() throws Exception {
    harbor.setVersion("v2.10.0");
    assertThat(admin("GET", "/api/v2.0/permissions", null).status()).isEqualTo(200);
    assertThat(admin("POST", "/api/v2.0/robots", robot("w", "proj", 1, "repository:*")).status())
        .isEqualTo(400);
    assertThat(admin("POST", "/api/v2.0/robots", robot("z", "proj", 0, "tag:list")).status())
        .isEqualTo(201);

    harbor.setVersion("v2.11.0");
    Resp zero = admin("POST", "/api/v2.0/robots", robot("z2", "proj", 0, "tag:list"));
    assertThat(zero.status()).isEqualTo(400);
    assertThat(zero.errorMessage()).startsWith("bad request error duration input: 0,");
  }

  // ---------------------------------------------------------------------------------------------
  // timing and concurrency

  @Test
  void requestTimesShowHowManyRequestsFitInAWindow() throws Exception {
    assertThat(harbor.maxRequestsInAnyWindow(Duration.ofSeconds(1))).isZero();
    harbor.setLatency(Duration.ofMillis(200));
    Instant before = Instant.now();
    for (int i = 0; i < 4; i++) {
      admin("GET", "/api/v2.0/systeminfo", null);
    }

    List<Instant> times = harbor.requestTimes();
    assertThat(times).hasSize(4).hasSameSizeAs(harbor.requestLog()).isSorted();
    assertThat(times.get(0)).isAfterOrEqualTo(before.minusMillis(1));
    assertThat(harbor.maxRequestsInAnyWindow(Duration.ofMillis(150)))
        .as("sequential requests 200 ms apart")
        .isEqualTo(1);
    assertThat(harbor.maxRequestsInAnyWindow(Duration.ofMillis(450))).isBetween(2, 3);
    assertThat(harbor.maxRequestsInAnyWindow(Duration.ofMinutes(1))).isEqualTo(4);
    assertThatThrownBy(() -> harbor.maxRequestsInAnyWindow(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);

    harbor.reset();
    assertThat(harbor.requestTimes()).isEmpty();
    assertThat(harbor.requestLog()).isEmpty();
  }

  @Test
  void maxConcurrentRequestsIsTheHighWaterMarkOfRequestsInFlight() throws Exception {
    for (int i = 0; i < 3; i++) {
      admin("GET", "/api/v2.0/systeminfo", null);
    }
    assertThat(harbor.maxConcurrentRequests()).isEqualTo(1);

    harbor.setLatency(Duration.ofMillis(600));
    List<java.util.concurrent.CompletableFuture<java.net.http.HttpResponse<String>>> calls =
        new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      calls.add(
          http.sendAsync(
              HttpRequest.newBuilder(URI.create(harbor.baseUrl() + "/api/v2.0/ping")).build(),
              BodyHandlers.ofString()));
    }
    for (var call : calls) {
      assertThat(call.get().statusCode()).isEqualTo(200);
    }
    assertThat(harbor.maxConcurrentRequests()).isEqualTo(6);

    harbor.reset();
    assertThat(harbor.maxConcurrentRequests()).isZero();
  }

  @Test
  void clearFaultsDropsEveryFaultAndResetAlsoTheVersion() throws Exception {
    harbor.setVersion("v2.9.1");
    harbor.failNext("POST", ".*", 500, 3);
    harbor.loseResponseNext("*", ".*");
    harbor.setErrorRate(1, 503);
    harbor.setLostResponseRate(1);
    harbor.setLatencySpikes(1, Duration.ofSeconds(5));
    harbor.setLatency(Duration.ofSeconds(5));
    harbor.setReadOnly(true);

    harbor.clearFaults();

    assertThat(harbor.pendingFaults()).isZero();
    assertThat(harbor.isReadOnly()).isFalse();
    long start = System.nanoTime();
    assertThat(admin("POST", "/api/v2.0/robots", robot("ci", "proj", -1, "tag:list")).status())
        .isEqualTo(201);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    assertThat(harbor.version()).as("not a fault").isEqualTo("v2.9.1");

    harbor.setErrorRate(1, 503);
    harbor.setReadOnly(true);
    harbor.reset();
    assertThat(harbor.version()).isEqualTo("v2.15.2");
    harbor.createProject("proj");
    assertThat(admin("POST", "/api/v2.0/robots", robot("ci", "proj", -1, "tag:list")).status())
        .isEqualTo(201);
  }

  // ---------------------------------------------------------------------------------------------
  // exchange observers

  @Test
  void theObserverSeesEachExchangeBeforeTheClientGetsTheResponse() throws Exception {
    List<RecordedExchange> seen = java.util.Collections.synchronizedList(new ArrayList<>());
    ExchangeObserver contract = harbor.exchangeObserver();
    harbor.setExchangeObserver(
        e -> {
          seen.add(e);
          if (contract != null) {
            contract.observe(e);
          }
        });

    Resp created =
        send(
            "POST",
            "/api/v2.0/robots",
            robot("ci", "proj", -1, "repository:pull").toString(),
            Map.of("Authorization", basic(ADMIN, PASSWORD), "X-Request-Id", "req-7"));

    assertThat(seen).hasSize(1);
    RecordedExchange post = seen.get(0);
    assertThat(post.method()).isEqualTo("POST");
    assertThat(post.rawPath()).isEqualTo("/api/v2.0/robots");
    assertThat(post.rawQuery()).isNull();
    assertThat(post.requestHeader("content-type")).isEqualTo("application/json");
    assertThat(post.requestHeader("X-REQUEST-ID")).isEqualTo("req-7");
    assertThat(JSON.readTree(post.requestBody()).get("name").asText()).isEqualTo("ci");
    assertThat(post.status()).isEqualTo(201);
    assertThat(post.responded()).isTrue();
    assertThat(post.injected()).isFalse();
    assertThat(post.responseHeader("Location")).isEqualTo(created.header("Location"));
    assertThat(post.responseHeader("X-Request-Id")).isEqualTo("req-7");
    assertThat(post.responseHeader("Content-Type")).startsWith("application/json");
    assertThat(post.responseBodyText()).isEqualTo(created.body());
    assertThat(post.toString())
        .isEqualTo("POST /api/v2.0/robots -> 201")
        .doesNotContain(created.json().get("secret").asText());

    admin("GET", "/api/v2.0/robots?q=Level=project,ProjectID=" + projectId + "&page_size=5", null);
    assertThat(seen.get(1).rawQuery())
        .isEqualTo("q=Level=project,ProjectID=" + projectId + "&page_size=5");

    harbor.failNext("GET", "/api/v2\\.0/systeminfo", 503);
    admin("GET", "/api/v2.0/systeminfo", null);
    assertThat(seen.get(2).status()).isEqualTo(503);
    assertThat(seen.get(2).injected()).isTrue();

    harbor.loseResponseNext("POST", ".*");
    assertThatThrownBy(
            () -> admin("POST", "/api/v2.0/robots", robot("lost", "proj", -1, "tag:list")))
        .isInstanceOf(UncheckedIOException.class);
    RecordedExchange lost = seen.get(3);
    assertThat(lost.method()).isEqualTo("POST");
    assertThat(lost.responded()).isFalse();
    assertThat(lost.status()).isEqualTo(RecordedExchange.NO_RESPONSE);
    assertThat(lost.injected()).isTrue();
    assertThat(lost.responseHeaders()).isEmpty();
    assertThat(lost.responseBody()).isEmpty();
    assertThat(lost.toString()).isEqualTo("POST /api/v2.0/robots -> no response (injected)");
    assertThat(harbor.findRobot("proj", "lost")).as("applied").isPresent();
  }

  @Test
  void aFailingObserverDoesNotBreakTheEmulator() throws Exception {
    ExchangeObserver contract = harbor.exchangeObserver();
    harbor.setExchangeObserver(
        e -> {
          if (contract != null) {
            contract.observe(e);
          }
          throw new IllegalStateException("observer bug");
        });

    assertThat(admin("GET", "/api/v2.0/systeminfo", null).status()).isEqualTo(200);
  }

  @Test
  void emulatorsStartWithTheDefaultObserverOfTheMoment() throws Exception {
    ExchangeObserver previous = HarborEmulator.defaultExchangeObserver();
    List<RecordedExchange> seen = java.util.Collections.synchronizedList(new ArrayList<>());
    ExchangeObserver recorder =
        e -> {
          seen.add(e);
          if (previous != null) {
            previous.observe(e);
          }
        };
    HarborEmulator.setDefaultExchangeObserver(recorder);
    try (HarborEmulator other = HarborEmulator.start()) {
      assertThat(other.exchangeObserver()).isSameAs(recorder);
      assertThat(harbor.exchangeObserver())
          .as("running emulators keep theirs")
          .isNotSameAs(recorder);
      HttpRequest ping =
          HttpRequest.newBuilder(URI.create(other.baseUrl() + "/api/v2.0/ping")).build();
      assertThat(http.send(ping, BodyHandlers.ofString()).statusCode()).isEqualTo(200);
      other.reset();
      assertThat(other.exchangeObserver()).as("reset keeps the observer").isSameAs(recorder);
    } finally {
      HarborEmulator.setDefaultExchangeObserver(previous);
    }
    assertThat(seen)
        .singleElement()
        .satisfies(e -> assertThat(e.rawPath()).isEqualTo("/api/v2.0/ping"));
  }

  // ---------------------------------------------------------------------------------------------
  // permissions order, by hand, robots as callers, counters

  @Test
  void permissionOrderIsRandomButTheSetIsStable() throws Exception {
    String[] pairs = {
      "repository:pull",
      "repository:push",
      "artifact:read",
      "artifact:list",
      "tag:list",
      "tag:create",
      "scan:create",
      "label:read"
    };
    long id =
        admin("POST", "/api/v2.0/robots", robot("ci", "proj", -1, pairs)).json().get("id").asLong();

    Set<List<String>> orders = new HashSet<>();
    for (int i = 0; i < 20; i++) {
      JsonNode got = admin("GET", "/api/v2.0/robots/" + id, null).json();
      assertThat(pairs(got)).containsExactlyInAnyOrder(pairs);
      List<String> order = new ArrayList<>();
      got.at("/permissions/0/access")
          .forEach(a -> order.add(a.get("resource") + ":" + a.get("action")));
      orders.add(order);
    }
    assertThat(orders).hasSizeGreaterThan(1);
  }

  @Test
  void changesByHandShowThroughTheApi() throws Exception {
    long id = harbor.createRobotByHand("proj", "manual", Set.of("repository:pull"), -1);
    JsonNode got = admin("GET", "/api/v2.0/robots/" + id, null).json();
    assertThat(got.get("name").asText()).isEqualTo("robot$proj+manual");
    assertThat(got.get("expires_at").asLong()).isEqualTo(-1);
    assertThat(got.at("/permissions/0/access/0").has("effect")).isFalse();
    assertThat(harbor.findRobot("proj", "manual")).map(EmulatedRobot::id).contains(id);

    String secret = harbor.refreshSecretByHand(id);
    assertThat(registryLogin("robot$proj+manual", secret).status()).isEqualTo(200);

    harbor.setPermissionsByHand(id, Set.of("repository:push", "repository:pull", "tag:list"));
    harbor.setDescriptionByHand(id, "edited in the UI");
    got = admin("GET", "/api/v2.0/robots/" + id, null).json();
    assertThat(pairs(got))
        .containsExactlyInAnyOrder("repository:push", "repository:pull", "tag:list");
    assertThat(got.get("description").asText()).isEqualTo("edited in the UI");

    harbor.deleteRobotByHand(id);
    Resp gone = admin("GET", "/api/v2.0/robots/" + id, null);
    assertThat(gone.status()).isEqualTo(404);
    assertThat(gone.errorMessage()).isEqualTo("robot " + id + " not found");
    assertThat(admin("DELETE", "/api/v2.0/robots/" + id, null).status()).isEqualTo(404);

    long other = harbor.createRobotByHand("proj", "other", Set.of("repository:pull"), 3);
    assertThat(harbor.robot(other).orElseThrow().expiresAt())
        .isEqualTo(T0.getEpochSecond() + 3 * DAY);
    harbor.deleteProject("proj");
    assertThat(harbor.robots()).isEmpty();
    assertThat(admin("GET", "/api/v2.0/robots/" + other, null).status()).isEqualTo(404);
    assertThat(admin("GET", "/api/v2.0/projects/proj", null).status()).isEqualTo(404);
    assertThat(harbor.createProject("proj")).isNotEqualTo(projectId);
  }

  @Test
  void robotsMayManageRobotsWithinTheirOwnPermissions() throws Exception {
    long managerId =
        harbor.createRobotByHand(
            "proj",
            "manager",
            Set.of("robot:create", "robot:list", "robot:read", "robot:delete", "repository:pull"),
            -1);
    String secret = harbor.refreshSecretByHand(managerId);
    Map<String, String> asRobot = auth("robot$proj+manager", secret);
    ObjectNode subset = robot("child", "proj", -1, "repository:pull");
    ((ObjectNode) subset.at("/permissions/0/access/0")).remove("effect");

    Resp created = send("POST", "/api/v2.0/robots", subset.toString(), asRobot);
    assertThat(created.status()).isEqualTo(201);
    long child = created.json().get("id").asLong();
    assertThat(admin("GET", "/api/v2.0/robots/" + child, null).json().get("creator_type").asText())
        .isEqualTo("robot");

    Resp escalation =
        send(
            "POST",
            "/api/v2.0/robots",
            robot("greedy", "proj", -1, "repository:push").toString(),
            asRobot);
    assertThat(escalation.status()).isEqualTo(403);
    assertThat(escalation.errorCode()).isEqualTo("DENIED");

    String q = "/api/v2.0/robots?q=Level=project,ProjectID=" + projectId;
    assertThat(send("GET", q, null, asRobot).status()).isEqualTo(200);
    assertThat(send("GET", "/api/v2.0/robots", null, asRobot).status()).isEqualTo(403);
    assertThat(send("PATCH", "/api/v2.0/robots/" + child, "{}", asRobot).status()).isEqualTo(403);
    assertThat(send("DELETE", "/api/v2.0/robots/" + child, null, asRobot).status()).isEqualTo(200);
  }

  @Test
  void everyRequestIsCountedByRoute() throws Exception {
    long id = createAndGetId("ci", 1);
    admin("GET", "/api/v2.0/robots/" + id, null);
    admin("GET", "/api/v2.0/robots/" + id, null);
    admin("GET", "/api/v2.0/robots?q=Level=project,ProjectID=" + projectId, null);
    admin("GET", "/api/v2.0/projects/proj", null);
    admin("GET", "/api/v2.0/systeminfo", null);
    registryLogin(ADMIN, PASSWORD);

    assertThat(harbor.requestCount()).isEqualTo(7);
    assertThat(harbor.requestCountsByRoute())
        .containsEntry("POST /api/v2.0/robots", 1)
        .containsEntry("GET /api/v2.0/robots/{id}", 2)
        .containsEntry("GET /api/v2.0/robots", 1)
        .containsEntry("GET /api/v2.0/projects/{name}", 1)
        .containsEntry("GET /api/v2.0/systeminfo", 1)
        .containsEntry("GET /v2/", 1);

    harbor.reset();
    assertThat(harbor.requestCount()).isZero();
    assertThat(harbor.robots()).isEmpty();
    assertThat(harbor.projectId("proj")).isEmpty();
  }

  // ---------------------------------------------------------------------------------------------
  // helpers

  private long createAndGetId(String name, long duration) throws Exception {
    Resp r = admin("POST", "/api/v2.0/robots", robot(name, "proj", duration, "repository:pull"));
    assertThat(r.status()).isEqualTo(201);
    return r.json().get("id").asLong();
  }

  private long expiresAt(long id) throws Exception {
    return admin("GET", "/api/v2.0/robots/" + id, null).json().get("expires_at").asLong();
  }

  private static ObjectNode robot(String name, String namespace, long duration, String... pairs) {
    ObjectNode n = JSON.createObjectNode();
    n.put("name", name);
    n.put("description", "made by a test");
    n.put("level", "project");
    n.put("duration", duration);
    ObjectNode permission = n.putArray("permissions").addObject();
    permission.put("kind", "project");
    permission.put("namespace", namespace);
    ArrayNode access = permission.putArray("access");
    for (String pair : pairs) {
      String[] ra = pair.split(":", 2);
      access.addObject().put("resource", ra[0]).put("action", ra[1]).put("effect", "allow");
    }
    return n;
  }

  private static Set<String> pairs(JsonNode robot) {
    Set<String> pairs = new TreeSet<>();
    robot
        .get("permissions")
        .forEach(
            p ->
                p.get("access")
                    .forEach(
                        a ->
                            pairs.add(
                                a.get("resource").asText() + ":" + a.get("action").asText())));
    return pairs;
  }

  private static String nextLink(String link) {
    if (link == null) {
      return null;
    }
    Matcher m = Pattern.compile("<([^>]*)>; rel=\"next\"").matcher(link);
    return m.find() ? m.group(1) : null;
  }

  /**
   * Sends a request that breaks Harbor's swagger on purpose: the contract check must flag the
   * request (and drops that), while the emulator's response is still checked.
   */
  private Resp malformed(Supplier<Resp> call) {
    return HarborContract.of(harbor).expectRequestViolations(call);
  }

  private Resp admin(String method, String path, Object body) {
    return send(method, path, body == null ? null : body.toString(), auth(ADMIN, PASSWORD));
  }

  private Resp registryLogin(String username, String secret) {
    return send("GET", "/v2/", null, auth(username, secret));
  }

  private static Map<String, String> auth(String username, String password) {
    return Map.of("Authorization", basic(username, password));
  }

  private static String basic(String username, String password) {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((username + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  private Resp send(String method, String path, String body, Map<String, String> headers) {
    Map<String, String> all = new LinkedHashMap<>();
    if (body != null) {
      all.put("Content-Type", "application/json");
    }
    all.putAll(headers);
    return sendRaw(method, path, body, all);
  }

  private Resp sendRaw(String method, String path, String body, Map<String, String> headers) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(harbor.baseUrl() + path))
            .timeout(Duration.ofSeconds(10))
            .method(method, body == null ? BodyPublishers.noBody() : BodyPublishers.ofString(body));
    headers.forEach(b::header);
    try {
      var r = http.send(b.build(), BodyHandlers.ofString());
      return new Resp(r.statusCode(), r.headers(), r.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private record Resp(int status, HttpHeaders headers, String body) {
    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    String header(String name) {
      return headers.firstValue(name).orElse(null);
    }

    String errorCode() {
      return json().at("/errors/0/code").asText();
    }

    String errorMessage() {
      return json().at("/errors/0/message").asText();
    }
  }

  /** A clock the test moves by hand. */
}
