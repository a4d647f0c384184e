package io.harborrobot.operator.reconciler;

import static io.harborrobot.operator.OperatorHarness.pullRobot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.harborrobot.operator.OperatorHarness;
import io.harborrobot.operator.api.v1alpha1.DeletionPolicy;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.Permission;
import io.harborrobot.operator.api.v1alpha1.Preset;
import io.harborrobot.operator.sandbox.EmulatedRobot;
import io.harborrobot.operator.sandbox.ExchangeObserver;
import io.harborrobot.operator.sandbox.HarborEmulator;
import io.harborrobot.operator.secret.CredentialSecrets;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** DESIGN.md §4 behaviours, end to end: operator + in-memory Kubernetes API + Harbor emulator. */
class HarborRobotIT {

  private static OperatorHarness harness;
  private static HarborEmulator harbor;

  @BeforeAll
  static void start() {
    harness = OperatorHarness.start();
    harbor = harness.harbor();
  }

  @AfterEach
  void everyInjectedFaultWasUsed() {
    int left = harbor.pendingFaults();
    harbor.clearFaults();
    assertThat(left).as("faults injected by the test but never hit").isZero();
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @Test
  void createsTheRobotAndAPullSecretThatLogsIn() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "app-pull"));

    HarborRobot robot = harness.awaitReady(team, "app-pull");

    EmulatedRobot inHarbor = harbor.findRobot(team, "app-pull").orElseThrow();
    assertThat(inHarbor.permissions()).containsExactly("repository:pull");
    assertThat(robot.getStatus().getRobotId()).isEqualTo(inHarbor.id());
    assertThat(robot.getStatus().getRobotName()).isEqualTo("robot$" + team + "+app-pull");
    assertThat(robot.getStatus().getSecretName()).isEqualTo("app-pull");
    assertThat(robot.getStatus().getConnection()).isEqualTo("HarborConnection/harbor");
    assertThat(robot.getStatus().getExpiresAt()).isNull();

    Secret secret = harness.secret(team, "app-pull");
    assertThat(secret.getType()).isEqualTo("kubernetes.io/dockerconfigjson");
    assertThat(secret.getData())
        .containsKeys(".dockerconfigjson", "username", "password", "registry");
    assertThat(decode(secret, "username")).isEqualTo("robot$" + team + "+app-pull");
    assertThat(decode(secret, "registry")).isEqualTo(harbor.registryHost());
    assertThat(secret.getMetadata().getLabels())
        .containsEntry("app.kubernetes.io/managed-by", "harbor-robot-operator")
        .containsEntry("harborrobot.io/robot", "app-pull");
    assertThat(secret.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(
            ref -> {
              assertThat(ref.getUid()).isEqualTo(robot.getMetadata().getUid());
              assertThat(ref.getController()).isTrue();
            });
    assertThat(harness.dockerConfigLogsIn(secret)).isTrue();
    assertThat(events(team, "app-pull")).extracting(Event::getReason).contains("Created");
    // Created as the spec says, marker included: no PUT follows the create.
    assertThat(inHarbor.description())
        .isEqualTo("(managed by harbor-robot-operator; uid " + robot.getMetadata().getUid() + ")");
    assertThat(harbor.requestLog()).doesNotContain("PUT /api/v2.0/robots/" + inHarbor.id());
    // The last write names the version it replaced: the operator's informer knows its watch event
    // as the operator's own, even when it comes before the write's response.
    assertThat(secret.getMetadata().getAnnotations())
        .hasEntrySatisfying(
            InformerEventSource.PREVIOUS_ANNOTATION_KEY,
            previous ->
                assertThat(Long.parseLong(previous.substring(previous.indexOf(',') + 1)))
                    .isLessThan(Long.parseLong(secret.getMetadata().getResourceVersion())));
  }

  @Test
  void specChangesUpdateTheSameRobotInPlace() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "builder"));
    long id = harness.awaitReady(team, "builder").getStatus().getRobotId();

    harness.edit(
        team,
        "builder",
        r -> {
          r.getSpec().setPreset(null);
          r.getSpec()
              .setPermissions(
                  List.of(
                      new Permission("repository", List.of("pull", "push")),
                      new Permission("tag", List.of("list"))));
          r.getSpec().setDescription("builds images");
          r.getSpec().setDurationDays(30);
        });

    HarborRobot updated = harness.awaitReady(team, "builder");
    EmulatedRobot inHarbor = harbor.robot(id).orElseThrow();
    assertThat(updated.getStatus().getRobotId()).isEqualTo(id);
    assertThat(inHarbor.permissions())
        .containsExactlyInAnyOrder("repository:pull", "repository:push", "tag:list");
    assertThat(inHarbor.description())
        .isEqualTo(
            "builds images (managed by harbor-robot-operator; uid "
                + updated.getMetadata().getUid()
                + ")");
    assertThat(inHarbor.duration()).isEqualTo(30);
    // Harbor counts the lifetime from the robot's creation, not from the update.
    assertThat(inHarbor.expiresAt())
        .isEqualTo(inHarbor.creationTime().getEpochSecond() + Duration.ofDays(30).toSeconds());
    assertThat(updated.getStatus().getExpiresAt()).isNotNull();
    assertThat(harbor.robots()).filteredOn(r -> team.equals(r.project())).hasSize(1);

    harness.edit(team, "builder", r -> r.getSpec().setDisabled(true));
    harness.awaitReason(team, "builder", Reasons.DISABLED);
    assertThat(harbor.robot(id).orElseThrow().disabled()).isTrue();
    assertThat(harness.dockerConfigLogsIn(harness.secret(team, "builder"))).isFalse();

    harness.edit(team, "builder", r -> r.getSpec().setDisabled(false));
    harness.awaitReason(team, "builder", Reasons.SYNCED);
    assertThat(harbor.robot(id).orElseThrow().disabled()).isFalse();
    assertThat(harness.dockerConfigLogsIn(harness.secret(team, "builder"))).isTrue();
  }

  @Test
  void driftMadeByHandInHarborIsReverted() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "drifty"));
    long id = harness.awaitReady(team, "drifty").getStatus().getRobotId();

    harbor.setPermissionsByHand(
        id, Set.of("repository:pull", "repository:push", "repository:delete"));
    harbor.setDescriptionByHand(id, "changed in the UI");
    harbor.setDisabledByHand(id, true);

    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              EmulatedRobot robot = harbor.robot(id).orElseThrow();
              assertThat(robot.permissions()).containsExactly("repository:pull");
              assertThat(robot.description())
                  .isEqualTo(DesiredRobot.of(harness.get(team, "drifty")).harborDescription());
              assertThat(robot.disabled()).isFalse();
            });
    awaitEvent(team, "drifty", Reasons.UPDATED);
  }

  @Test
  void aRobotDeletedByHandIsRecreatedWithAWorkingSecret() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "fragile"));
    long id = harness.awaitReady(team, "fragile").getStatus().getRobotId();

    harbor.deleteRobotByHand(id);

    HarborRobot recreated =
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () -> harness.get(team, "fragile"),
                r -> r.getStatus().getRobotId() != null && r.getStatus().getRobotId() != id);
    assertThat(harbor.robot(recreated.getStatus().getRobotId())).isPresent();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> harness.dockerConfigLogsIn(harness.secret(team, "fragile")));
    assertThat(harbor.robots()).filteredOn(r -> team.equals(r.project())).hasSize(1);
  }

  @Test
  void aDeletedSecretIsRecreatedWithAWorkingCredential() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "keeper"));
    long id = harness.awaitReady(team, "keeper").getStatus().getRobotId();
    String oldPassword = decode(harness.secret(team, "keeper"), "password");

    harness.client().secrets().inNamespace(team).withName("keeper").delete();

    Secret recreated =
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () -> harness.secret(team, "keeper"),
                s -> s != null && harness.dockerConfigLogsIn(s));
    assertThat(decode(recreated, "password")).isNotEqualTo(oldPassword);
    assertThat(harbor.credentialsWork("robot$" + team + "+keeper", oldPassword)).isFalse();
    assertThat(harness.get(team, "keeper").getStatus().getRobotId()).isEqualTo(id);
    assertThat(harbor.robots()).filteredOn(r -> team.equals(r.project())).hasSize(1);
  }

  @Test
  void aPasswordEditedInTheSecretIsReplacedAndWorks() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "edited"));
    harness.awaitReady(team, "edited");

    Secret secret = harness.secret(team, "edited");
    secret.getData().put("password", encode("Typed1nByHand"));
    harness.client().resource(secret).update();

    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              Secret repaired = harness.secret(team, "edited");
              assertThat(decode(repaired, "password")).isNotEqualTo("Typed1nByHand");
              assertThat(harness.dockerConfigLogsIn(repaired)).isTrue();
            });
    awaitEvent(team, "edited", Reasons.CREDENTIAL_REPAIRED);
  }

  @Test
  void deletingTheResourceDeletesTheRobotAndReleasesTheFinalizer() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "short-lived"));
    long id = harness.awaitReady(team, "short-lived").getStatus().getRobotId();
    assertThat(harness.get(team, "short-lived").getMetadata().getFinalizers()).isNotEmpty();

    harness
        .client()
        .resources(HarborRobot.class)
        .inNamespace(team)
        .withName("short-lived")
        .delete();

    await().atMost(Duration.ofSeconds(30)).until(() -> harness.get(team, "short-lived") == null);
    assertThat(harbor.robot(id)).isEmpty();
    assertThat(harness.secret(team, "short-lived")).isNull();
  }

  @Test
  void deletionPolicyOrphanKeepsTheRobotInHarbor() {
    String team = harness.newTeam();
    HarborRobot robot = pullRobot(team, "kept");
    robot.getSpec().setDeletionPolicy(DeletionPolicy.Orphan);
    harness.create(robot);
    long id = harness.awaitReady(team, "kept").getStatus().getRobotId();

    deleteAndAwaitGone(team, "kept");
    assertThat(harbor.robot(id)).isPresent();
  }

  @Test
  void aRobotAlreadyGoneFromHarborDoesNotBlockDeletion() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "gone"));
    long id = harness.awaitReason(team, "gone", Reasons.SYNCED).getStatus().getRobotId();
    harness.whileStopped(
        () -> {
          harbor.deleteRobotByHand(id);
          harness.client().resources(HarborRobot.class).inNamespace(team).withName("gone").delete();
        });
    await().atMost(Duration.ofSeconds(30)).until(() -> harness.get(team, "gone") == null);
  }

  @Test
  void aRobotAlreadyGoneWhenDeletedCountsAsDeleted() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "vanishing"));
    harness.awaitReason(team, "vanishing", Reasons.SYNCED);
    harbor.failNext("DELETE", "/api/v2.0/robots/\\d+", 404);

    deleteAndAwaitGone(team, "vanishing");
    assertThat(events(team, "vanishing"))
        .extracting(Event::getMessage)
        .anyMatch(m -> m.contains("already gone"));
  }

  @Test
  void deletionWaitsWhileHarborIsUnreachableAndSaysWhy() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "patient"));
    long id = harness.awaitReady(team, "patient").getStatus().getRobotId();
    // More failures than the client retries within one call, so the reconcile itself fails.
    harbor.failNext("DELETE", "/api/v2.0/robots/.*", 503, 8);

    harness.client().resources(HarborRobot.class).inNamespace(team).withName("patient").delete();

    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                events(team, "patient").stream()
                    .anyMatch(e -> Reasons.DELETING.equals(e.getReason())));
    await().atMost(Duration.ofSeconds(30)).until(() -> harness.get(team, "patient") == null);
    assertThat(harbor.robot(id)).isEmpty();
  }

  @Test
  void aCreateWhoseResponseWasLostEndsWithExactlyOneWorkingRobot() {
    String team = harness.newTeam();
    harbor.loseResponseNext("POST", "/api/v2.0/robots");
    List<String> createBodies = new java.util.concurrent.CopyOnWriteArrayList<>();
    ExchangeObserver contract = recordCreates(team, createBodies);
    try {
      harness.create(pullRobot(team, "unlucky"));

      HarborRobot robot = harness.awaitReady(team, "unlucky");
      assertThat(harbor.robots()).filteredOn(r -> team.equals(r.project())).hasSize(1);
      assertThat(robot.getStatus().getRobotId())
          .isEqualTo(harbor.findRobot(team, "unlucky").orElseThrow().id());
      assertThat(harness.dockerConfigLogsIn(harness.secret(team, "unlucky"))).isTrue();
      assertThat(events(team, "unlucky")).extracting(Event::getReason).contains(Reasons.RECOVERED);
      // Resolved by looking the robot up, not by sending the create again.
      assertThat(createBodies).hasSize(1);
    } finally {
      harbor.setExchangeObserver(contract);
    }
  }

  /**
   * Collects the bodies of the creates of {@code team}'s robots into {@code bodies}, besides the
   * contract check; returns the observer to put back.
   */
  private ExchangeObserver recordCreates(String team, List<String> bodies) {
    ExchangeObserver contract = harbor.exchangeObserver();
    harbor.setExchangeObserver(
        exchange -> {
          if (contract != null) {
            contract.observe(exchange);
          }
          String body = new String(exchange.requestBody(), StandardCharsets.UTF_8);
          // Only this test's creates: other tests' robots resync meanwhile.
          if ("POST".equals(exchange.method())
              && exchange.rawPath().endsWith("/robots")
              && body.contains("\"namespace\":\"" + team + "\"")) {
            bodies.add(body);
          }
        });
    return contract;
  }

  @Test
  void aRobotCreatedBeforeAnythingWasRecordedIsFoundAndDeletedWithItsResource() {
    String team = harness.newTeam();
    // Harbor creates the robot, then the Secret that would record it cannot be written (as when
    // the operator stops right after the create): nothing in Kubernetes knows the robot.
    harness
        .apiServer()
        .failNext("POST", "^/api/v1/namespaces/" + team + "/secrets(\\?|$)", 403, 1000);
    try {
      harness.create(pullRobot(team, "unrecorded"));
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> harbor.findRobot(team, "unrecorded").isPresent());
      assertThat(harness.secret(team, "unrecorded")).isNull();

      harness
          .client()
          .resources(HarborRobot.class)
          .inNamespace(team)
          .withName("unrecorded")
          .delete();

      await().atMost(Duration.ofSeconds(30)).until(() -> harness.get(team, "unrecorded") == null);
      assertThat(harbor.robots()).filteredOn(r -> team.equals(r.project())).isEmpty();
    } finally {
      harness.apiServer().clearFaults();
    }
  }

  @Test
  void aFailureBetweenCreateAndSetSecretEndsWithOneWorkingRobot() {
    String team = harness.newTeam();
    harbor.failNext("PATCH", "/api/v2.0/robots/.*", 500);

    harness.create(pullRobot(team, "halfway"));

    harness.awaitReady(team, "halfway");
    assertThat(harbor.robots()).filteredOn(r -> team.equals(r.project())).hasSize(1);
    assertThat(harness.dockerConfigLogsIn(harness.secret(team, "halfway"))).isTrue();
  }

  @Test
  void aSecretTheOperatorDoesNotOwnIsLeftUntouched() {
    String team = harness.newTeam();
    Secret foreign =
        new SecretBuilder()
            .withNewMetadata()
            .withName("taken")
            .withNamespace(team)
            .endMetadata()
            .withStringData(Map.of("token", "somebody-elses"))
            .build();
    harness.client().resource(foreign).create();
    Secret before = harness.secret(team, "taken");

    harness.create(pullRobot(team, "taken"));

    HarborRobot robot = harness.awaitReason(team, "taken", Reasons.SECRET_CONFLICT);
    assertThat(ready(robot).getStatus()).isEqualTo("False");
    Secret after = harness.secret(team, "taken");
    assertThat(after.getData()).isEqualTo(before.getData());
    assertThat(after.getMetadata().getResourceVersion())
        .isEqualTo(before.getMetadata().getResourceVersion());
    assertThat(harbor.findRobot(team, "taken")).isEmpty();
    assertThat(events(team, "taken"))
        .extracting(Event::getReason)
        .contains(Reasons.SECRET_CONFLICT);
  }

  @Test
  void aRobotThisResourceDidNotCreateIsReportedAndLeftAlone() {
    String team = harness.newTeam();
    long id = harbor.createRobotByHand(team, "shared", Set.of("repository:pull"), -1);

    harness.create(pullRobot(team, "shared"));

    harness.awaitReason(team, "shared", Reasons.ROBOT_CONFLICT);
    EmulatedRobot untouched = harbor.robot(id).orElseThrow();
    assertThat(untouched.updateTime()).isEqualTo(untouched.creationTime());
    assertThat(harness.secret(team, "shared")).isNull();
  }

  @Test
  void aConflictOnCreateIsReportedAndHarborsStateDecides() {
    String team = harness.newTeam();
    harbor.failNext("POST", "/api/v2.0/robots", 409);

    harness.create(pullRobot(team, "raced"));

    awaitEvent(team, "raced", Reasons.ROBOT_CONFLICT);
    // The 409 was injected, so Harbor holds no robot carrying this resource's token, nor any other:
    // the next pass creates it.
    harness.awaitReady(team, "raced");
    assertThat(harbor.robots()).filteredOn(r -> team.equals(r.project())).hasSize(1);
  }

  @Test
  void twoResourcesForTheSameRobotDoNotShareIt() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "shared-ci"));
    long id = harness.awaitReason(team, "shared-ci", Reasons.SYNCED).getStatus().getRobotId();
    String otherTeam = harness.newTeam();
    HarborRobot newer = pullRobot(otherTeam, "shared-ci");
    newer.getSpec().setProject(team);

    harness.create(newer);

    harness.awaitReason(otherTeam, "shared-ci", Reasons.ROBOT_CONFLICT);
    assertThat(harness.get(team, "shared-ci").getStatus().getRobotId()).isEqualTo(id);
    assertThat(harness.dockerConfigLogsIn(harness.secret(team, "shared-ci"))).isTrue();
    assertThat(harbor.robots()).filteredOn(r -> team.equals(r.project())).hasSize(1);
  }

  @Test
  void twoResourcesNamingTheSameSecretDoNotShareIt() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "first"));
    harness.awaitReason(team, "first", Reasons.SYNCED);
    HarborRobot second = pullRobot(team, "second");
    second.getSpec().getSecret().setName("first");

    harness.create(second);

    harness.awaitReason(team, "second", Reasons.SECRET_CONFLICT);
    assertThat(harbor.findRobot(team, "second")).isEmpty();
    assertThat(harness.dockerConfigLogsIn(harness.secret(team, "first"))).isTrue();
    assertThat(decode(harness.secret(team, "first"), "username")).endsWith("+first");
  }

  @Test
  void aRobotWithoutThisResourcesCreateTokenIsNeverTakenOver() {
    String team = harness.newTeam();
    long id =
        harness.whileStopped(
            () -> {
              // This resource's create failed before reaching Harbor (its token is recorded), then
              // somebody else created a robot of the same name.
              HarborRobot robot = harness.create(pullRobot(team, "contested"));
              writeInterruptedCreate(robot, "token-of-a-failed-create");
              return harbor.createRobotByHand(team, "contested", Set.of("repository:pull"), -1);
            });

    harness.awaitReason(team, "contested", Reasons.ROBOT_CONFLICT);
    int start = harbor.requestLog().size();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> requestsAbout(team, "contested", id, start).size() >= 2);
    EmulatedRobot untouched = harbor.robot(id).orElseThrow();
    assertThat(untouched.updateTime()).isEqualTo(untouched.creationTime());
    assertThat(harbor.robots()).filteredOn(r -> team.equals(r.project())).hasSize(1);
    assertThat(ready(harness.get(team, "contested")).getReason()).isEqualTo(Reasons.ROBOT_CONFLICT);

    harness.client().resources(HarborRobot.class).inNamespace(team).withName("contested").delete();
    await().atMost(Duration.ofSeconds(30)).until(() -> harness.get(team, "contested") == null);
    assertThat(harbor.robot(id)).as("someone else's robot survives the deletion").isPresent();
  }

  @Test
  void aCreateRetriedAfterAFailedAttemptKeepsItsToken() {
    String team = harness.newTeam();
    List<String> createBodies = new java.util.concurrent.CopyOnWriteArrayList<>();
    ExchangeObserver contract = recordCreates(team, createBodies);
    try {
      harness.whileStopped(
          () -> {
            // An attempt whose POST timed out: it may still land later, so the next attempt must
            // carry the same token for either robot to be recognised.
            writeInterruptedCreate(harness.create(pullRobot(team, "retried")), "token-kept");
          });

      harness.awaitReady(team, "retried");
      assertThat(createBodies).singleElement().asString().contains("token-kept");
    } finally {
      harbor.setExchangeObserver(contract);
    }
  }

  @Test
  void aTakeOverInterruptedAfterTheDescriptionWasRestoredStillKnowsItsRobot() {
    String team = harness.newTeam();
    long id =
        harness.whileStopped(
            () -> {
              HarborRobot robot = harness.create(pullRobot(team, "adopted"));
              writeInterruptedCreate(robot, "token-of-a-lost-response");
              long created =
                  harbor.createRobotByHand(team, "adopted", Set.of("repository:pull"), -1);
              harbor.setDescriptionByHand(
                  created, DesiredRobot.ownerMarker("token-of-a-lost-response"));
              // The first pass takes the robot over and restores its description, then cannot set
              // the secret: the token is gone from Harbor, so the next pass must know the robot by
              // its id.
              harbor.failNext("PATCH", "/api/v2.0/robots/\\d+", 503, 4);
              return created;
            });

    harness.awaitReady(team, "adopted");
    assertThat(harness.get(team, "adopted").getStatus().getRobotId()).isEqualTo(id);
    assertThat(harness.dockerConfigLogsIn(harness.secret(team, "adopted"))).isTrue();
  }

  @Test
  void deletingAResourceWhoseCreateResponseWasLostDeletesItsRobot() {
    String team = harness.newTeam();
    long id =
        harness.whileStopped(
            () -> {
              // What a crash right after a POST whose response was lost leaves behind: the Secret
              // holds the token, Harbor holds a robot whose description carries it, the status
              // knows nothing.
              HarborRobot robot = pullRobot(team, "interrupted");
              robot.getMetadata().setFinalizers(List.of("harborrobots.harborrobot.io/finalizer"));
              robot = harness.create(robot);
              writeInterruptedCreate(robot, "token-of-a-lost-response");
              long created =
                  harbor.createRobotByHand(team, "interrupted", Set.of("repository:pull"), -1);
              harbor.setDescriptionByHand(
                  created, DesiredRobot.ownerMarker("token-of-a-lost-response"));
              harness
                  .client()
                  .resources(HarborRobot.class)
                  .inNamespace(team)
                  .withName("interrupted")
                  .delete();
              return created;
            });

    await().atMost(Duration.ofSeconds(30)).until(() -> harness.get(team, "interrupted") == null);
    assertThat(harbor.robot(id)).isEmpty();
  }

  @Test
  void aStaleRobotIdInTheStatusGivesWayToTheOneInTheSecret() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "stale"));
    long id = harness.awaitReason(team, "stale", Reasons.SYNCED).getStatus().getRobotId();
    harness.whileStopped(
        () -> {
          // A crash after the Secret was written but before the status was: the status still names
          // a robot that no longer exists.
          HarborRobot robot = harness.get(team, "stale");
          robot.getStatus().setRobotId(id + 100_000);
          harness.client().resource(robot).updateStatus();
        });

    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> harness.get(team, "stale").getStatus().getRobotId() == id);
    harness.awaitReady(team, "stale");
    assertThat(harbor.robots()).filteredOn(r -> team.equals(r.project())).hasSize(1);
    assertThat(harness.dockerConfigLogsIn(harness.secret(team, "stale"))).isTrue();
  }

  @Test
  void aPendingSecretLeftByACrashIsSetInHarborNotReplaced() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "resumed"));
    harness.awaitReason(team, "resumed", Reasons.SYNCED);
    String pending = "Pers1stedButNotYetApplied";
    harness.whileStopped(
        () -> {
          // A crash between persisting a new secret and setting it in Harbor.
          Secret secret = harness.secret(team, "resumed");
          secret.getData().put("password", encode(pending));
          secret
              .getMetadata()
              .getAnnotations()
              .put(CredentialSecrets.PENDING, CredentialSecrets.fingerprint(pending));
          harness.client().resource(secret).update();
        });

    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> harbor.credentialsWork("robot$" + team + "+resumed", pending));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> harness.dockerConfigLogsIn(harness.secret(team, "resumed")));
    assertThat(decode(harness.secret(team, "resumed"), "password")).isEqualTo(pending);
    assertThat(events(team, "resumed"))
        .extracting(Event::getReason)
        .contains(Reasons.SECRET_SET)
        .doesNotContain(Reasons.CREDENTIAL_REPAIRED);
  }

  @Test
  void aNamePrefixChangedInHarborIsFollowedInTheSecret() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "renamed"));
    harness.awaitReason(team, "renamed", Reasons.SYNCED);
    try {
      harbor.setRobotNamePrefix("bot+x$");

      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                Secret secret = harness.secret(team, "renamed");
                assertThat(decode(secret, "username")).isEqualTo("bot+x$" + team + "+renamed");
                assertThat(harness.dockerConfigLogsIn(secret)).isTrue();
                // The status is written after the Secret, once the new name has logged in.
                assertThat(harness.get(team, "renamed").getStatus().getRobotName())
                    .isEqualTo("bot+x$" + team + "+renamed");
              });
      assertThat(harness.count(RobotMetrics.REPAIRS, "kind", "name_prefix_changed")).isPositive();
    } finally {
      harbor.setRobotNamePrefix("robot$");
    }
  }

  @Test
  void aMissingProjectIsReportedAndPickedUpOnceItExists() {
    String team = harness.newTeam();
    HarborRobot robot = pullRobot(team, "early");
    robot.getSpec().setProject(team + "-later");
    harness.create(robot);

    harness.awaitReason(team, "early", Reasons.PROJECT_NOT_FOUND);
    assertThat(harbor.findRobot(team + "-later", "early")).isEmpty();

    harbor.createProject(team + "-later");
    harness.awaitReady(team, "early");
    assertThat(harbor.findRobot(team + "-later", "early")).isPresent();
  }

  @Test
  void anInvalidSpecIsReportedWithoutCallingHarbor() {
    String team = harness.newTeam();
    harness.create(pushWithoutPull(team, "pushy"));

    HarborRobot reported = harness.awaitReason(team, "pushy", Reasons.INVALID_SPEC);
    assertThat(ready(reported).getMessage()).contains("push requires repository pull");
    assertThat(harbor.findRobot(team, "pushy")).isEmpty();
    assertThat(harbor.requestLog())
        .noneMatch(r -> r.contains("pushy") || r.matches(".*/" + team + "([?/].*)?"));
  }

  /**
   * The spec check is remembered per generation (ValidatedSpecs): an edit that fixes the spec is a
   * new generation, checked afresh, and the robot is made.
   */
  @Test
  void anInvalidSpecFixedByAnEditBecomesReady() {
    String team = harness.newTeam();
    harness.create(pushWithoutPull(team, "mended"));
    harness.awaitReason(team, "mended", Reasons.INVALID_SPEC);

    harness.edit(
        team,
        "mended",
        r ->
            r.getSpec()
                .setPermissions(List.of(new Permission("repository", List.of("pull", "push")))));

    harness.awaitReady(team, "mended");
    assertThat(harbor.findRobot(team, "mended").orElseThrow().permissions())
        .contains("repository:push");
  }

  /** A robot whose permissions Harbor refuses: repository push without pull. */
  private static HarborRobot pushWithoutPull(String team, String name) {
    HarborRobot robot = pullRobot(team, name);
    robot.getSpec().setPreset(null);
    robot.getSpec().setPermissions(List.of(new Permission("repository", List.of("push"))));
    return robot;
  }

  /** SecretLeakExtension checks the logs of every class, and every Event and status at the end. */
  @Test
  void theSecretValueNeverAppearsInStatusEventsOrLogs() {
    String team = harness.newTeam();
    HarborRobot robot = pullRobot(team, "quiet");
    robot.getSpec().setPreset(Preset.CI);
    harness.create(robot);
    harness.awaitReady(team, "quiet");
    String password = decode(harness.secret(team, "quiet"), "password");

    String status = Serialization.asJson(harness.get(team, "quiet").getStatus());
    String events = Serialization.asJson(events(team, "quiet"));
    assertThat(status).doesNotContain(password);
    assertThat(events).doesNotContain(password).isNotEmpty();
  }

  @Test
  void aSecretNameChangeMovesTheCredentialAndRemovesTheOldSecret() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "mover"));
    harness.awaitReady(team, "mover");

    harness.edit(team, "mover", r -> r.getSpec().getSecret().setName("moved"));

    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              assertThat(harness.secret(team, "moved")).isNotNull();
              assertThat(harness.dockerConfigLogsIn(harness.secret(team, "moved"))).isTrue();
              assertThat(harness.secret(team, "mover")).isNull();
            });
    assertThat(harness.secret(team, "moved").getMetadata().getAnnotations())
        .containsKey(CredentialSecrets.APPLIED);
  }

  @Test
  void anUnchangedRobotCostsOneListingOfItsProjectPerResyncAndWritesNothing() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "steady"));
    HarborRobot before = harness.awaitReason(team, "steady", Reasons.SYNCED);
    long id = before.getStatus().getRobotId();
    Secret secretBefore = harness.secret(team, "steady");
    int start = harbor.requestLog().size();

    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> requestsAbout(team, "steady", id, start).size() >= 3);

    assertThat(requestsAbout(team, "steady", id, start)).allMatch(r -> isListingOf(team, r));
    assertThat(harness.get(team, "steady").getMetadata().getResourceVersion())
        .isEqualTo(before.getMetadata().getResourceVersion());
    assertThat(harness.secret(team, "steady").getMetadata().getResourceVersion())
        .isEqualTo(secretBefore.getMetadata().getResourceVersion());
  }

  @Test
  void anOperatorRestartChangesNothing() {
    String team = harness.newTeam();
    harness.create(pullRobot(team, "durable"));
    HarborRobot before = harness.awaitReason(team, "durable", Reasons.SYNCED);
    long id = before.getStatus().getRobotId();
    Secret secretBefore = harness.secret(team, "durable");
    int start = harbor.requestLog().size();

    harness.stopOperator();
    harness.startOperator();

    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> !requestsAbout(team, "durable", id, start).isEmpty());
    // A restarted operator looks the project up once, then lists it: reads only.
    assertThat(requestsAbout(team, "durable", id, start))
        .allMatch(r -> isListingOf(team, r) || r.equals("GET /api/v2.0/projects/" + team));
    assertThat(harbor.robots()).filteredOn(r -> team.equals(r.project())).hasSize(1);
    assertThat(harness.secret(team, "durable").getMetadata().getResourceVersion())
        .isEqualTo(secretBefore.getMetadata().getResourceVersion());
    assertThat(harness.dockerConfigLogsIn(harness.secret(team, "durable"))).isTrue();
  }

  private static void deleteAndAwaitGone(String namespace, String name) {
    harness.client().resources(HarborRobot.class).inNamespace(namespace).withName(name).delete();
    await().atMost(Duration.ofSeconds(30)).until(() -> harness.get(namespace, name) == null);
  }

  /** The owned Secret a create leaves behind before its POST: a pending secret and a token. */
  private static void writeInterruptedCreate(HarborRobot robot, String token) {
    String team = robot.getMetadata().getNamespace();
    String password = "Pend1ngSecretValue";
    harness
        .client()
        .resource(
            CredentialSecrets.build(
                robot,
                new CredentialSecrets.Credential(
                    harbor.registryHost(),
                    "robot$" + team + "+" + robot.getMetadata().getName(),
                    password),
                Map.of(
                    CredentialSecrets.CREATE_TOKEN,
                    token,
                    CredentialSecrets.PENDING,
                    CredentialSecrets.fingerprint(password))))
        .create();
  }

  /** Requests since {@code start} that concern this robot: its id, its name or its project. */
  private static List<String> requestsAbout(String project, String name, long id, int start) {
    List<String> log = harbor.requestLog();
    return log.subList(Math.min(start, log.size()), log.size()).stream()
        .filter(
            r ->
                r.matches(".*/robots/" + id + "([?/].*)?")
                    || r.contains(name)
                    || r.matches(".*/projects/" + project + "([?/].*)?")
                    || isListingOf(project, r))
        .toList();
  }

  /** Whether {@code request} is a page of the listing of {@code project}'s robots. */
  private static boolean isListingOf(String project, String request) {
    long projectId = harbor.projectId(project).orElseThrow();
    return request.startsWith("GET /api/v2.0/robots?")
        && request.contains("ProjectID%3D" + projectId + "&")
        && !request.contains("name");
  }

  private static io.harborrobot.operator.api.v1alpha1.Condition ready(HarborRobot robot) {
    return OperatorHarness.ready(robot).orElseThrow();
  }

  private static void awaitEvent(String namespace, String name, String reason) {
    harness.awaitEvent(namespace, name, reason);
  }

  private static List<Event> events(String namespace, String name) {
    return harness.events(namespace, name);
  }

  private static String decode(Secret secret, String key) {
    return OperatorHarness.decode(secret, key);
  }

  private static String encode(String value) {
    return Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8));
  }
}
