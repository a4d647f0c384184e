package io.harborrobot.operator.reconciler;

import static io.harborrobot.operator.OperatorHarness.pullRobot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.harborrobot.operator.OperatorHarness;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.secret.PullSecretLinks;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Pull Secrets on ServiceAccounts: added where asked, and only the operator's own removed. */
class ImagePullServiceAccountsIT {

  private static OperatorHarness harness;

  @BeforeAll
  static void start() {
    harness = OperatorHarness.start();
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  private static void serviceAccount(String team, String name, String... pullSecrets) {
    harness
        .client()
        .serviceAccounts()
        .inNamespace(team)
        .resource(
            new ServiceAccountBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withImagePullSecrets(
                    List.of(pullSecrets).stream().map(LocalObjectReference::new).toList())
                .build())
        .create();
  }

  /**
   * What the API server's ServiceAccount admission plugin does to a Pod without imagePullSecrets:
   * it copies those of the Pod's ServiceAccount (the in-memory API server has no admission).
   */
  private static void admitWithServiceAccount(Pod pod) {
    if (pod.getSpec().getImagePullSecrets() == null
        || pod.getSpec().getImagePullSecrets().isEmpty()) {
      ServiceAccount sa =
          harness
              .client()
              .serviceAccounts()
              .inNamespace(pod.getMetadata().getNamespace())
              .withName(pod.getSpec().getServiceAccountName())
              .get();
      pod.getSpec().setImagePullSecrets(sa.getImagePullSecrets());
    }
  }

  private static List<String> pullSecrets(String team, String name) {
    ServiceAccount sa = harness.client().serviceAccounts().inNamespace(team).withName(name).get();
    return sa.getImagePullSecrets() == null
        ? List.of()
        : sa.getImagePullSecrets().stream().map(LocalObjectReference::getName).toList();
  }

  private static void awaitPullSecrets(String team, String name, Predicate<List<String>> check) {
    await().atMost(Duration.ofSeconds(30)).until(() -> pullSecrets(team, name), check::test);
  }

  @Test
  void theSecretJoinsTheNamedServiceAccountsAndLeavesTheirOtherEntriesAlone() {
    String team = harness.newTeam();
    serviceAccount(team, "web", "registry-mirror", "vendor-creds");
    serviceAccount(team, "batch");
    serviceAccount(team, "untouched", "vendor-creds");
    HarborRobot robot = pullRobot(team, "app-pull");
    robot.getSpec().setImagePullServiceAccounts(List.of("web", "batch", "later"));

    harness.create(robot);
    harness.awaitReady(team, "app-pull");

    awaitPullSecrets(
        team, "web", s -> s.equals(List.of("registry-mirror", "vendor-creds", "app-pull")));
    awaitPullSecrets(team, "batch", s -> s.equals(List.of("app-pull")));
    assertThat(pullSecrets(team, "untouched")).containsExactly("vendor-creds");
    // A Pod spec that names only the ServiceAccount gets the pull secret by reference, as the
    // API server's ServiceAccount admission fills it in; and the reference logs in.
    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withName("web-1")
            .withNamespace(team)
            .endMetadata()
            .withNewSpec()
            .withServiceAccountName("web")
            .addNewContainer()
            .withName("web")
            .withImage(harness.harbor().registryHost() + "/" + team + "/web:1")
            .endContainer()
            .endSpec()
            .build();
    admitWithServiceAccount(pod);
    assertThat(pod.getSpec().getImagePullSecrets())
        .extracting(LocalObjectReference::getName)
        .contains("app-pull");
    assertThat(harness.dockerConfigLogsIn(harness.secret(team, "app-pull"))).isTrue();

    // A ServiceAccount created later is linked as soon as it appears.
    serviceAccount(team, "later");
    awaitPullSecrets(team, "later", s -> s.contains("app-pull"));

    // Out of the list: only the operator's entry goes.
    harness.edit(
        team, "app-pull", r -> r.getSpec().setImagePullServiceAccounts(List.of("batch", "later")));
    awaitPullSecrets(team, "web", s -> s.equals(List.of("registry-mirror", "vendor-creds")));
    assertThat(
            harness
                .client()
                .serviceAccounts()
                .inNamespace(team)
                .withName("web")
                .get()
                .getMetadata()
                .getAnnotations())
        .doesNotContainKey(PullSecretLinks.ADDED);

    // The HarborRobot goes: its entry goes from every ServiceAccount, nothing else does.
    harness.client().resource(harness.get(team, "app-pull")).delete();
    awaitPullSecrets(team, "batch", List::isEmpty);
    awaitPullSecrets(team, "later", List::isEmpty);
    assertThat(pullSecrets(team, "web")).containsExactly("registry-mirror", "vendor-creds");
    assertThat(pullSecrets(team, "untouched")).containsExactly("vendor-creds");
  }

  @Test
  void anEntrySomeoneElseAddedIsNeverRemoved() {
    String team = harness.newTeam();
    serviceAccount(team, "deployer", "shared-pull");
    HarborRobot robot = pullRobot(team, "shared-pull");
    robot.getSpec().setImagePullServiceAccounts(List.of("deployer"));
    harness.create(robot);
    harness.awaitReady(team, "shared-pull");

    harness.edit(team, "shared-pull", r -> r.getSpec().setImagePullServiceAccounts(List.of()));
    harness.awaitReady(team, "shared-pull");
    await().pollDelay(Duration.ofSeconds(3)).until(() -> true);

    assertThat(pullSecrets(team, "deployer")).containsExactly("shared-pull");
  }

  @Test
  void aRenamedSecretMovesInTheServiceAccounts() {
    String team = harness.newTeam();
    serviceAccount(team, "runner", "other");
    HarborRobot robot = pullRobot(team, "mover");
    robot.getSpec().setImagePullServiceAccounts(List.of("runner"));
    harness.create(robot);
    awaitPullSecrets(team, "runner", s -> s.equals(List.of("other", "mover")));

    harness.edit(team, "mover", r -> r.getSpec().getSecret().setName("mover-pull"));

    awaitPullSecrets(team, "runner", s -> s.equals(List.of("other", "mover-pull")));
  }

  @Test
  void twoRobotsLinkingOneServiceAccountBothGetIn() {
    String team = harness.newTeam();
    serviceAccount(team, "shared-sa");
    for (String name : List.of("first", "second", "third")) {
      HarborRobot robot = pullRobot(team, name);
      robot.getSpec().setImagePullServiceAccounts(List.of("shared-sa"));
      harness.create(robot);
    }

    awaitPullSecrets(
        team,
        "shared-sa",
        s -> s.containsAll(List.of("first", "second", "third")) && s.size() == 3);

    harness.client().resource(harness.get(team, "second")).delete();
    // The three robots link in whatever order their reconciles run.
    awaitPullSecrets(
        team, "shared-sa", s -> s.size() == 2 && s.containsAll(List.of("first", "third")));
  }
}
