package io.harborrobot.operator.secret;

import static io.harborrobot.operator.TestRobots.pullRobot;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Secret;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.SecretType;
import io.harborrobot.operator.secret.CredentialSecrets.Credential;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CredentialSecretsTest {

  private static final Credential CREDENTIAL =
      new Credential("harbor.example.com", "robot$team-a+app", "s3cretVALUE1234");

  private static HarborRobot robot() {
    HarborRobot robot = pullRobot("team-a", "app");
    robot.getMetadata().setUid("uid-1");
    robot.getSpec().getSecret().getLabels().put("team", "a");
    robot.getSpec().getSecret().getLabels().put(CredentialSecrets.MANAGED_BY_LABEL, "someone-else");
    robot.getSpec().getSecret().getAnnotations().put("note", "hello");
    robot.getSpec().getSecret().getAnnotations().put(CredentialSecrets.APPLIED, "forged");
    return robot;
  }

  @Test
  void dockerConfigJsonIsWhatDockerAndTheKubeletRead() throws Exception {
    Secret secret = CredentialSecrets.build(robot(), CREDENTIAL, Map.of());
    assertThat(secret.getType()).isEqualTo("kubernetes.io/dockerconfigjson");
    JsonNode auths = new ObjectMapper().readTree(decode(secret, ".dockerconfigjson")).path("auths");
    JsonNode entry = auths.path("harbor.example.com");
    assertThat(auths.size()).isEqualTo(1);
    assertThat(entry.path("username").asText()).isEqualTo("robot$team-a+app");
    assertThat(entry.path("password").asText()).isEqualTo("s3cretVALUE1234");
    assertThat(decodeText(entry.path("auth").asText()))
        .isEqualTo("robot$team-a+app:s3cretVALUE1234");
    assertThat(decode(secret, "username")).isEqualTo("robot$team-a+app");
    assertThat(decode(secret, "password")).isEqualTo("s3cretVALUE1234");
    assertThat(decode(secret, "registry")).isEqualTo("harbor.example.com");
    assertThat(CredentialSecrets.credential(secret)).contains(CREDENTIAL);
  }

  @Test
  void anEnvSecretCarriesExactlyGitLabsHarborVariables() {
    HarborRobot robot = robot();
    robot.getSpec().getSecret().setType(SecretType.Env);
    Credential full =
        new Credential(
            "harbor.example.com:8443",
            "robot$team-a+app",
            "s3cretVALUE1234",
            "https://harbor.example.com/",
            "team-a");

    Secret secret = CredentialSecrets.build(robot, full, "n3wVALUE5678abcd", Map.of());

    assertThat(secret.getType()).isEqualTo("Opaque");
    assertThat(secret.getData().keySet())
        .containsExactlyInAnyOrder(
            "HARBOR_URL",
            "HARBOR_HOST",
            "HARBOR_OCI",
            "HARBOR_PROJECT",
            "HARBOR_USERNAME",
            "HARBOR_PASSWORD",
            CredentialSecrets.KEY_PENDING_PASSWORD);
    assertThat(decode(secret, "HARBOR_URL")).isEqualTo("https://harbor.example.com");
    assertThat(decode(secret, "HARBOR_HOST")).isEqualTo("harbor.example.com:8443");
    assertThat(decode(secret, "HARBOR_OCI")).isEqualTo("oci://harbor.example.com:8443");
    assertThat(decode(secret, "HARBOR_PROJECT")).isEqualTo("team-a");
    assertThat(decode(secret, "HARBOR_USERNAME")).isEqualTo("robot$team-a+app");
    assertThat(decode(secret, "HARBOR_PASSWORD")).isEqualTo("s3cretVALUE1234");
    assertThat(CredentialSecrets.password(secret)).contains("s3cretVALUE1234");
    assertThat(CredentialSecrets.credential(secret))
        .contains(
            new Credential(
                "harbor.example.com:8443",
                "robot$team-a+app",
                "s3cretVALUE1234",
                "https://harbor.example.com",
                "team-a"));
  }

  @Test
  void aBasicAuthSecretCarriesUsernamePasswordAndRegistry() {
    HarborRobot robot = robot();
    robot.getSpec().getSecret().setType(SecretType.BasicAuth);

    Secret secret = CredentialSecrets.build(robot, CREDENTIAL, Map.of());

    assertThat(secret.getType()).isEqualTo("kubernetes.io/basic-auth");
    assertThat(secret.getData().keySet())
        .containsExactlyInAnyOrder("username", "password", "registry");
    assertThat(CredentialSecrets.credential(secret)).contains(CREDENTIAL);
  }

  @Test
  void managedLabelsAndBookkeepingCannotBeOverriddenFromTheSpec() {
    Secret secret =
        CredentialSecrets.build(robot(), CREDENTIAL, Map.of(CredentialSecrets.ROBOT_ID, "7"));
    assertThat(secret.getMetadata().getLabels())
        .containsEntry(CredentialSecrets.MANAGED_BY_LABEL, "harbor-robot-operator")
        .containsEntry(CredentialSecrets.ROBOT_LABEL, "app")
        .containsEntry("team", "a");
    assertThat(secret.getMetadata().getAnnotations())
        .containsEntry("note", "hello")
        .containsEntry(CredentialSecrets.ROBOT_ID, "7")
        .doesNotContainKey(CredentialSecrets.APPLIED);
    assertThat(secret.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(
            ref -> {
              assertThat(ref.getUid()).isEqualTo("uid-1");
              assertThat(ref.getKind()).isEqualTo("HarborRobot");
              assertThat(ref.getController()).isTrue();
            });
    assertThat(CredentialSecrets.isOwnedBy(secret, robot())).isTrue();
  }

  @Test
  void theRobotLabelFitsALabelValueWhateverTheResourceName() {
    assertThat(CredentialSecrets.labelValue("app")).isEqualTo("app");
    String longName = "a".repeat(60) + "-" + "b".repeat(100);
    String value = CredentialSecrets.labelValue(longName);
    assertThat(value).hasSizeLessThanOrEqualTo(63).matches("[a-z0-9]([-a-z0-9.]*[a-z0-9])?");
    assertThat(CredentialSecrets.labelValue(longName + "c")).isNotEqualTo(value);
  }

  @Test
  void fingerprintsIdentifyWithoutRevealing() {
    String fingerprint = CredentialSecrets.fingerprint("s3cretVALUE1234");
    assertThat(fingerprint).hasSize(32).doesNotContain("s3cret");
    assertThat(CredentialSecrets.fingerprint("s3cretVALUE1234")).isEqualTo(fingerprint);
    assertThat(CredentialSecrets.fingerprint("s3cretVALUE1235")).isNotEqualTo(fingerprint);
    assertThat(CredentialSecrets.appliedMarker(7, "s3cretVALUE1234")).isEqualTo("7:" + fingerprint);
  }

  @Test
  void theCredentialPrintsWithoutItsPassword() {
    assertThat(CREDENTIAL.toString())
        .doesNotContain("s3cretVALUE1234")
        .contains("robot$team-a+app");
  }

  private static String decode(Secret secret, String key) {
    return decodeText(secret.getData().get(key));
  }

  private static String decodeText(String base64) {
    return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
  }
}
