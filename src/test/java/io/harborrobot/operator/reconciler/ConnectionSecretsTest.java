package io.harborrobot.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.harborrobot.operator.api.v1alpha1.ClusterHarborConnection;
import io.harborrobot.operator.api.v1alpha1.ClusterHarborConnectionSpec;
import io.harborrobot.operator.api.v1alpha1.HarborConnection;
import io.harborrobot.operator.api.v1alpha1.HarborConnectionSpec;
import io.harborrobot.operator.api.v1alpha1.SecretKeyReference;
import io.harborrobot.operator.api.v1alpha1.SecretReference;
import io.harborrobot.operator.sandbox.InMemoryKubernetes;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Which Secrets a connection may read, and how. */
class ConnectionSecretsTest {

  private static final String PEM =
      "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
  private static InMemoryKubernetes kubernetes;
  private static ConnectionSecrets secrets;

  @BeforeAll
  static void start() {
    kubernetes = InMemoryKubernetes.start();
    for (String namespace : new String[] {"team-a", "team-b", "platform"}) {
      kubernetes
          .client()
          .namespaces()
          .resource(
              new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build())
          .create();
      secret(namespace, "harbor-admin", Map.of("username", "admin", "password", "Harbor12345"));
      secret(namespace, "harbor-ca", Map.of("ca.crt", PEM, "other.pem", PEM));
    }
    secrets = new ConnectionSecrets(kubernetes.client());
  }

  @AfterAll
  static void stop() {
    kubernetes.close();
  }

  private static void secret(String namespace, String name, Map<String, String> data) {
    kubernetes
        .client()
        .secrets()
        .inNamespace(namespace)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(namespace)
                .endMetadata()
                .withStringData(data)
                .build())
        .create();
  }

  private static ResolvedConnection namespaced(SecretReference credentials, SecretKeyReference ca) {
    HarborConnection connection = new HarborConnection();
    connection.getMetadata().setName("harbor");
    connection.getMetadata().setNamespace("team-a");
    HarborConnectionSpec spec = new HarborConnectionSpec();
    spec.setUrl("https://harbor.example.com");
    spec.setCredentialsSecretRef(credentials);
    spec.setCaSecretRef(ca);
    connection.setSpec(spec);
    return ResolvedConnection.of(connection);
  }

  private static ResolvedConnection cluster(SecretReference credentials, SecretKeyReference ca) {
    ClusterHarborConnection connection = new ClusterHarborConnection();
    connection.getMetadata().setName("shared");
    ClusterHarborConnectionSpec spec = new ClusterHarborConnectionSpec();
    spec.setUrl("https://harbor.example.com");
    spec.setCredentialsSecretRef(credentials);
    spec.setCaSecretRef(ca);
    connection.setSpec(spec);
    return ResolvedConnection.of(connection);
  }

  private static SecretReference ref(String name, String namespace) {
    SecretReference ref = new SecretReference(name);
    ref.setNamespace(namespace);
    return ref;
  }

  private static SecretKeyReference ca(String namespace, String key) {
    SecretKeyReference ref = new SecretKeyReference();
    ref.setName("harbor-ca");
    ref.setNamespace(namespace);
    if (key != null) {
      ref.setKey(key);
    }
    return ref;
  }

  @Test
  void aHarborConnectionReadsItsOwnNamespaceOnly() {
    assertThat(secrets.credentials(namespaced(ref("harbor-admin", null), null)).username())
        .isEqualTo("admin");
    assertThat(secrets.credentials(namespaced(ref("harbor-admin", "team-a"), null)).username())
        .isEqualTo("admin");
    assertThatThrownBy(() -> secrets.credentials(namespaced(ref("harbor-admin", "team-b"), null)))
        .isInstanceOf(ReconcileProblem.class)
        .hasMessageContaining("only reads Secrets in its own namespace");
    assertThatThrownBy(
            () -> secrets.caBundle(namespaced(ref("harbor-admin", null), ca("team-b", null))))
        .hasMessageContaining("only reads Secrets in its own namespace");
  }

  @Test
  void aClusterConnectionReadsTheNamespaceItNames() {
    assertThat(secrets.credentials(cluster(ref("harbor-admin", "platform"), null)).username())
        .isEqualTo("admin");
    assertThatThrownBy(() -> secrets.credentials(cluster(ref("harbor-admin", null), null)))
        .hasMessageContaining("credentialsSecretRef.namespace is required");
  }

  @Test
  void theCaComesFromTheSecretKeyOrTheSpec() {
    assertThat(secrets.caBundle(namespaced(ref("harbor-admin", null), ca(null, null))))
        .isEqualTo(PEM);
    assertThat(
            secrets.caBundle(cluster(ref("harbor-admin", "platform"), ca("platform", "other.pem"))))
        .isEqualTo(PEM);
    assertThatThrownBy(
            () -> secrets.caBundle(namespaced(ref("harbor-admin", null), ca(null, "missing.pem"))))
        .hasMessageContaining("has no key missing.pem");
    ResolvedConnection inline = namespaced(ref("harbor-admin", null), null);
    inline.spec().setCaBundle(PEM);
    assertThat(secrets.caBundle(inline)).isEqualTo(PEM);
  }

  @Test
  void passwordsNeverPrint() {
    ConnectionSecrets.Credentials credentials =
        secrets.credentials(namespaced(ref("harbor-admin", null), null));
    assertThat(credentials.toString()).doesNotContain("Harbor12345");
    assertThat(credentials.password().reveal()).isEqualTo("Harbor12345");
  }

  @Test
  void aChangedSecretChangesTheVersions() {
    secret("team-a", "rotating-admin", Map.of("username", "admin", "password", "Harbor12345"));
    ResolvedConnection connection = namespaced(ref("rotating-admin", null), ca(null, null));
    String before = secrets.versions(connection);
    kubernetes
        .client()
        .secrets()
        .inNamespace("team-a")
        .withName("rotating-admin")
        .edit(
            s -> {
              s.setStringData(Map.of("username", "admin", "password", "Changed-1"));
              return s;
            });
    assertThat(secrets.versions(connection)).isNotEqualTo(before);
  }
}
