package io.harborrobot.operator.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.harborrobot.operator.api.v1alpha1.ClusterHarborConnection;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.validation.ManifestValidator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GitOps rules of the sandbox's folder sync, against the in-memory API server with no operator
 * running: what is applied, what is refused, and above all what is deleted, since a deleted
 * HarborRobot is a robot deleted in Harbor.
 */
class FolderSyncTest {

  @TempDir Path dir;

  private InMemoryKubernetes kubernetes;
  private HarborEmulator harbor;
  private final List<String> log = new ArrayList<>();
  private FolderSync sync;

  @BeforeEach
  void start() {
    kubernetes = InMemoryKubernetes.start();
    harbor = HarborEmulator.start();
    sync =
        new FolderSync(
            kubernetes.client(), harbor, ManifestValidator.forPackagedCrds()::rejection, log::add);
  }

  @AfterEach
  void stop() {
    harbor.close();
    kubernetes.close();
  }

  /** Writes as an editor that saves safely does: the whole file appears at once. */
  private void write(String file, String content) throws IOException {
    Path temporary = Files.createTempFile(dir.getParent(), "manifest", ".tmp");
    Files.writeString(temporary, content);
    Files.move(temporary, dir.resolve(file), StandardCopyOption.ATOMIC_MOVE);
  }

  private FolderSync.Result pass() {
    return sync.sync(ManifestFolder.read(dir));
  }

  private HarborRobot robot(String name) {
    return kubernetes
        .client()
        .resources(HarborRobot.class)
        .inNamespace("team-a")
        .withName(name)
        .get();
  }

  private static String robot(String name, String spec) {
    return """
        apiVersion: harborrobot.io/v1alpha1
        kind: HarborRobot
        metadata:
          name: %s
          namespace: team-a
        spec:
          project: team-a
          %s
        """
        .formatted(name, spec);
  }

  @Test
  void aTypoGetsTheApiServersMessageAndTheOthersAreStillApplied() throws IOException {
    write("a.yaml", robot("typo", "preset: pull"));
    write("b.yaml", robot("unknown", "preset: Pull\n  colour: blue"));
    write("c.yaml", robot("fine", "preset: Pull"));

    FolderSync.Result result = pass();

    assertThat(result.rejections())
        .anySatisfy(
            r ->
                assertThat(r)
                    .contains("a.yaml: The HarborRobot \"typo\" is invalid:")
                    .contains("spec.preset: Unsupported value: \"pull\""))
        .anySatisfy(
            r -> assertThat(r).contains("b.yaml").contains("unknown field \"spec.colour\""));
    assertThat(robot("typo")).isNull();
    assertThat(robot("unknown")).isNull();
    assertThat(robot("fine")).isNotNull();
  }

  @Test
  void aRefusedEditKeepsTheObjectAsItWas() throws IOException {
    write("web.yaml", robot("web", "preset: Pull\n  description: first"));
    pass();

    write("web.yaml", robot("web", "preset: Pull\n  description: second\n  durationDays: 0"));
    FolderSync.Result refused = pass();
    pass();

    assertThat(refused.clean()).isFalse();
    assertThat(robot("web").getSpec().getDescription()).isEqualTo("first");
    assertThat(log.stream().filter(l -> l.contains("durationDays"))).as("said once").hasSize(1);
  }

  @Test
  void anEditThatChangesTheNameAndIsRefusedDeletesNothing() throws IOException {
    write("web.yaml", robot("web", "preset: Pull"));
    pass();

    write("web.yaml", robot("Web", "preset: Pull"));
    pass();
    pass();

    assertThat(robot("web")).as("the refused file still stands for its old object").isNotNull();
  }

  @Test
  void aFileThatCannotBeReadKeepsItsObjects() throws IOException {
    write("web.yaml", robot("web", "preset: Pull"));
    pass();

    write("web.yaml", "apiVersion: harborrobot.io/v1alpha1\nkind: HarborRobot\nmetadata: [oops");
    FolderSync.Result broken = pass();
    pass();

    assertThat(broken.problems()).singleElement().asString().contains("web.yaml");
    assertThat(robot("web")).isNotNull();
  }

  @Test
  void aRenamedFileThatBreaksLaterStillKeepsItsObjects() throws IOException {
    write("a.yaml", robot("web", "preset: Pull"));
    pass();
    Files.move(dir.resolve("a.yaml"), dir.resolve("b.yaml"));
    pass();

    write("b.yaml", "kind: [");
    pass();
    pass();

    assertThat(robot("web")).isNotNull();
  }

  @Test
  void aRemovedManifestIsDeletedOnlyWhenTwoPassesInARowMissIt() throws IOException {
    write("web.yaml", robot("web", "preset: Pull"));
    pass();

    Files.delete(dir.resolve("web.yaml"));
    pass();
    assertThat(robot("web")).as("a file being saved may be missing for a moment").isNotNull();

    write("web.yaml", robot("web", "preset: Pull"));
    pass();
    Files.delete(dir.resolve("web.yaml"));
    pass();
    assertThat(robot("web")).as("the count starts again").isNotNull();
    pass();
    assertThat(robot("web")).isNull();
    assertThat(log).contains("harborrobot.harborrobot.io/web (namespace team-a) deleted");
  }

  @Test
  void aConnectionIsDeletedOnlyOnceTheRobotsRemovedWithItAreGone() throws IOException {
    write(
        "connection.yaml",
        """
        apiVersion: harborrobot.io/v1alpha1
        kind: ClusterHarborConnection
        metadata:
          name: shared
        spec:
          url: https://harbor.example.com
          credentialsSecretRef: {name: admin, namespace: team-a}
        """);
    write("web.yaml", robot("web", "preset: Pull"));
    pass();
    // the operator's finalizer, which it removes once the robot is deleted in Harbor
    kubernetes
        .client()
        .resources(HarborRobot.class)
        .inNamespace("team-a")
        .withName("web")
        .edit(
            r -> {
              r.getMetadata().setFinalizers(List.of("harborrobots.harborrobot.io/finalizer"));
              return r;
            });

    Files.delete(dir.resolve("connection.yaml"));
    Files.delete(dir.resolve("web.yaml"));
    pass();
    pass();
    pass();

    assertThat(robot("web").getMetadata().getDeletionTimestamp()).isNotNull();
    assertThat(
            kubernetes.client().resources(ClusterHarborConnection.class).withName("shared").get())
        .as("the robot's connection stays while the robot is being deleted")
        .isNotNull();

    kubernetes
        .client()
        .resources(HarborRobot.class)
        .inNamespace("team-a")
        .withName("web")
        .edit(
            r -> {
              r.getMetadata().setFinalizers(List.of());
              return r;
            });
    pass();
    pass();
    assertThat(
            kubernetes.client().resources(ClusterHarborConnection.class).withName("shared").get())
        .isNull();
  }

  @Test
  void anEditKeepsWhatTheOperatorWrote() throws IOException {
    write(
        "sa.yaml",
        """
        apiVersion: v1
        kind: ServiceAccount
        metadata:
          name: builder
          namespace: team-a
          labels: {team: a}
        imagePullSecrets:
          - name: mirror
        """);
    pass();
    ServiceAccount linked =
        kubernetes.client().serviceAccounts().inNamespace("team-a").withName("builder").get();
    linked.getImagePullSecrets().add(new LocalObjectReference("builder-pull"));
    linked.getMetadata().setAnnotations(java.util.Map.of("harborrobot.io/image-pull-secrets", "x"));
    kubernetes.client().resource(linked).update();

    write(
        "sa.yaml",
        """
        apiVersion: v1
        kind: ServiceAccount
        metadata:
          name: builder
          namespace: team-a
          labels: {team: a, tier: ci}
        imagePullSecrets:
          - name: mirror2
        """);
    pass();

    ServiceAccount merged =
        kubernetes.client().serviceAccounts().inNamespace("team-a").withName("builder").get();
    assertThat(merged.getImagePullSecrets())
        .extracting(LocalObjectReference::getName)
        .as("the manifest's entry replaced, the operator's kept")
        .containsExactly("builder-pull", "mirror2");
    assertThat(merged.getMetadata().getAnnotations())
        .containsEntry("harborrobot.io/image-pull-secrets", "x");
    assertThat(merged.getMetadata().getLabels()).containsEntry("tier", "ci");
  }

  @Test
  void anUnreadableDocumentIsReportedWithoutPrintingItsValues() throws IOException {
    write(
        "secrets.yaml",
        """
        metadata: {name: leaked, namespace: team-a}
        stringData: {password: s3cr3t-value}
        ---
        s3cr3t-scalar
        """);

    FolderSync.Result result = pass();

    assertThat(result.problems())
        .hasSize(2)
        .anySatisfy(p -> assertThat(p).contains("Kind' is missing"))
        .anySatisfy(p -> assertThat(p).contains("not a String"));
    assertThat(String.join("\n", log)).doesNotContain("s3cr3t");
  }
}
