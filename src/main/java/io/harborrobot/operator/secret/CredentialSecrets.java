package io.harborrobot.operator.secret;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.SecretSpec;
import io.harborrobot.operator.api.v1alpha1.SecretType;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Builds and reads the Kubernetes Secret that carries a robot's credentials.
 *
 * <p>Besides the credential itself, the Secret records (in annotations) what the operator knows
 * about it, so that every step of "persist, then apply" can be resumed after a crash:
 *
 * <ul>
 *   <li>{@value #ROBOT_ID}: the Harbor robot the credential belongs to;
 *   <li>{@value #APPLIED}: {@code <robotId>:<fingerprint>} of the password Harbor is known to hold,
 *       written only after Harbor accepted it;
 *   <li>{@value #PENDING}: fingerprint of a password the operator persisted but may not have set in
 *       Harbor yet;
 *   <li>{@value #CREATE_TOKEN}: the token (the HarborRobot's uid; a random one in older releases)
 *       whose marker ends the description of a robot the operator was creating, so a robot whose
 *       create response was lost can be recognised as its own (and only that robot: one made by
 *       anyone else does not carry the marker);
 *   <li>{@value #ROTATED_AT}: when Harbor accepted the current password (RFC 3339), the start of
 *       the {@code rotation.everyDays} period;
 *   <li>{@value #VERIFIED}: the robot id, fingerprint and login name of the credential the registry
 *       last accepted: a refusal of exactly that credential means its secret was changed in Harbor,
 *       while a refusal of a credential never accepted is not repaired by guessing;
 *   <li>{@value #ROTATE_HANDLED}: the last value of the HarborRobot's {@code harborrobot.io/rotate}
 *       annotation that was acted on, recorded with the new password so that one request rotates
 *       once, even when the rotation is interrupted.
 * </ul>
 *
 * During a rotation the new password waits in the data key {@value #KEY_PENDING_PASSWORD} (its
 * fingerprint in {@value #PENDING}, what triggered it in {@value #ROTATION_TRIGGER}) while the keys
 * workloads read keep the current, working one; they change over only once Harbor has accepted the
 * new password.
 *
 * <p>A fingerprint is a truncated SHA-256 of the password: it identifies which password is stored
 * without revealing it, and it lives only on the Secret that holds the password anyway.
 */
public final class CredentialSecrets {

  public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
  public static final String MANAGED_BY_VALUE = "harbor-robot-operator";
  public static final String ROBOT_LABEL = "harborrobot.io/robot";

  /** Label selector of every Secret this operator owns; the Secret informer watches only these. */
  public static final String MANAGED_SELECTOR = MANAGED_BY_LABEL + "=" + MANAGED_BY_VALUE;

  public static final String ROBOT_ID = "harborrobot.io/robot-id";
  public static final String APPLIED = "harborrobot.io/credential-applied";
  public static final String PENDING = "harborrobot.io/credential-pending";
  public static final String CREATE_TOKEN = "harborrobot.io/create-token";
  public static final String ROTATED_AT = "harborrobot.io/rotated-at";
  public static final String ROTATE_HANDLED = "harborrobot.io/rotate-handled";
  public static final String VERIFIED = "harborrobot.io/credential-verified";
  public static final String ROTATION_TRIGGER = "harborrobot.io/rotation-trigger";

  /** Every bookkeeping annotation, in the order they are written. */
  public static final java.util.List<String> BOOKKEEPING =
      java.util.List.of(
          ROBOT_ID,
          APPLIED,
          PENDING,
          ROTATION_TRIGGER,
          CREATE_TOKEN,
          ROTATED_AT,
          ROTATE_HANDLED,
          VERIFIED);

  public static final String TYPE_DOCKER_CONFIG_JSON = "kubernetes.io/dockerconfigjson";
  public static final String KEY_DOCKER_CONFIG_JSON = ".dockerconfigjson";
  public static final String KEY_USERNAME = "username";
  public static final String KEY_PASSWORD = "password";
  public static final String KEY_REGISTRY = "registry";
  public static final String KEY_PENDING_PASSWORD = "pending-password";

  public static final String TYPE_BASIC_AUTH = "kubernetes.io/basic-auth";
  public static final String TYPE_OPAQUE = "Opaque";

  /** The Env type's keys: the variables GitLab's Harbor integration sets for a CI job. */
  public static final String ENV_URL = "HARBOR_URL";

  public static final String ENV_HOST = "HARBOR_HOST";
  public static final String ENV_OCI = "HARBOR_OCI";
  public static final String ENV_PROJECT = "HARBOR_PROJECT";
  public static final String ENV_USERNAME = "HARBOR_USERNAME";
  public static final String ENV_PASSWORD = "HARBOR_PASSWORD";

  private static final ObjectMapper JSON = new ObjectMapper();

  private CredentialSecrets() {}

  /**
   * The credential a Secret should carry, and for the Env type where it applies: Harbor's URL and
   * the robot's project (null when unknown).
   */
  public record Credential(
      String registry, String username, String password, String harborUrl, String project) {

    public Credential(String registry, String username, String password) {
      this(registry, username, password, null, null);
    }

    @Override
    public String toString() {
      return "Credential[" + username + "@" + registry + "]";
    }
  }

  /** Whether {@code secret} is controlled by {@code robot} (owner reference with its uid). */
  public static boolean isOwnedBy(Secret secret, HarborRobot robot) {
    return secret.getMetadata().getOwnerReferences() != null
        && secret.getMetadata().getOwnerReferences().stream()
            .anyMatch(
                ref ->
                    robot.getMetadata().getUid() != null
                        && robot.getMetadata().getUid().equals(ref.getUid()));
  }

  /**
   * The Secret the operator wants: credential data, managed labels, the user's labels and
   * annotations, the given bookkeeping annotations, and a controller owner reference.
   */
  public static Secret build(
      HarborRobot robot, Credential credential, Map<String, String> bookkeeping) {
    return build(robot, credential, null, bookkeeping);
  }

  /** {@link #build(HarborRobot, Credential, Map)} with a rotation's password waiting aside. */
  public static Secret build(
      HarborRobot robot,
      Credential credential,
      String pendingPassword,
      Map<String, String> bookkeeping) {
    Map<String, String> labels = new LinkedHashMap<>();
    Map<String, String> annotations = new LinkedHashMap<>();
    if (robot.getSpec().getSecret() != null) {
      labels.putAll(robot.getSpec().getSecret().getLabels());
      annotations.putAll(robot.getSpec().getSecret().getAnnotations());
    }
    labels.put(MANAGED_BY_LABEL, MANAGED_BY_VALUE);
    labels.put(ROBOT_LABEL, labelValue(robot.getMetadata().getName()));
    annotations.keySet().removeIf(k -> k.startsWith("harborrobot.io/"));
    annotations.putAll(bookkeeping);

    SecretType type = typeOf(robot);
    Map<String, String> data = new LinkedHashMap<>();
    switch (type) {
      case Env -> {
        data.put(ENV_URL, encode(harborUrl(credential)));
        data.put(ENV_HOST, encode(credential.registry()));
        data.put(ENV_OCI, encode("oci://" + credential.registry()));
        data.put(ENV_PROJECT, encode(credential.project() == null ? "" : credential.project()));
        data.put(ENV_USERNAME, encode(credential.username()));
        data.put(ENV_PASSWORD, encode(credential.password()));
      }
      case BasicAuth -> {
        data.put(KEY_USERNAME, encode(credential.username()));
        data.put(KEY_PASSWORD, encode(credential.password()));
        data.put(KEY_REGISTRY, encode(credential.registry()));
      }
      default -> {
        data.put(KEY_DOCKER_CONFIG_JSON, encode(dockerConfigJson(credential)));
        data.put(KEY_USERNAME, encode(credential.username()));
        data.put(KEY_PASSWORD, encode(credential.password()));
        data.put(KEY_REGISTRY, encode(credential.registry()));
      }
    }
    if (pendingPassword != null) {
      data.put(KEY_PENDING_PASSWORD, encode(pendingPassword));
    }

    return new SecretBuilder()
        .withMetadata(
            new ObjectMetaBuilder()
                .withName(robot.effectiveSecretName())
                .withNamespace(robot.getMetadata().getNamespace())
                .withLabels(labels)
                .withAnnotations(annotations)
                .withOwnerReferences(
                    new OwnerReferenceBuilder()
                        .withApiVersion(robot.getApiVersion())
                        .withKind(robot.getKind())
                        .withName(robot.getMetadata().getName())
                        .withUid(robot.getMetadata().getUid())
                        .withController(true)
                        .withBlockOwnerDeletion(true)
                        .build())
                .build())
        .withType(kubernetesType(type))
        .withData(data)
        .build();
  }

  /**
   * A label value naming the HarborRobot: its name, or for names longer than a label value may be
   * (63), the first 54 characters and a hash of the whole name.
   */
  public static String labelValue(String name) {
    if (name.length() <= 63) {
      return name;
    }
    return name.substring(0, 54).replaceAll("[-.]+$", "") + "-" + fingerprint(name).substring(0, 8);
  }

  /** {@code {"auths":{host:{username,password,auth}}}}, what docker and the kubelet read. */
  public static String dockerConfigJson(Credential credential) {
    ObjectNode root = JSON.createObjectNode();
    ObjectNode entry = root.putObject("auths").putObject(credential.registry());
    entry.put("username", credential.username());
    entry.put("password", credential.password());
    entry.put(
        "auth",
        Base64.getEncoder()
            .encodeToString(
                (credential.username() + ":" + credential.password())
                    .getBytes(StandardCharsets.UTF_8)));
    try {
      return JSON.writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise a docker config", e);
    }
  }

  /** The password stored in the Secret, if any (whatever its shape). */
  public static Optional<String> password(Secret secret) {
    return data(secret, isEnv(secret) ? ENV_PASSWORD : KEY_PASSWORD).filter(p -> !p.isEmpty());
  }

  private static boolean isEnv(Secret secret) {
    return TYPE_OPAQUE.equals(secret.getType());
  }

  /** The Secret type the HarborRobot asks for (DockerConfigJson by default). */
  public static SecretType typeOf(HarborRobot robot) {
    SecretSpec spec = robot.getSpec() == null ? null : robot.getSpec().getSecret();
    return spec == null || spec.getType() == null ? SecretType.DockerConfigJson : spec.getType();
  }

  /** The Kubernetes {@code type} of a Secret of that shape. */
  public static String kubernetesType(SecretType type) {
    return switch (type) {
      case BasicAuth -> TYPE_BASIC_AUTH;
      case Env -> TYPE_OPAQUE;
      default -> TYPE_DOCKER_CONFIG_JSON;
    };
  }

  private static String harborUrl(Credential credential) {
    return credential.harborUrl() != null
        ? credential.harborUrl().replaceAll("/+$", "")
        : "https://" + credential.registry();
  }

  /** A rotation's new password, waiting until Harbor has accepted it, if any. */
  public static Optional<String> pendingPassword(Secret secret) {
    return data(secret, KEY_PENDING_PASSWORD).filter(p -> !p.isEmpty());
  }

  /** The credential stored in the Secret, if its keys are all there (whatever its shape). */
  public static Optional<Credential> credential(Secret secret) {
    boolean env = isEnv(secret);
    Optional<String> registry = data(secret, env ? ENV_HOST : KEY_REGISTRY);
    Optional<String> username = data(secret, env ? ENV_USERNAME : KEY_USERNAME);
    Optional<String> password = data(secret, env ? ENV_PASSWORD : KEY_PASSWORD);
    if (registry.isEmpty() || username.isEmpty() || password.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new Credential(
            registry.get(),
            username.get(),
            password.get(),
            env ? data(secret, ENV_URL).orElse(null) : null,
            env ? data(secret, ENV_PROJECT).orElse(null) : null));
  }

  /** Whether the Secret's data is exactly what {@code credential} produces (type included). */
  public static boolean carries(Secret secret, Credential credential) {
    if (!TYPE_DOCKER_CONFIG_JSON.equals(secret.getType())) {
      return false;
    }
    Optional<Credential> stored = credential(secret);
    if (stored.isEmpty() || !stored.get().equals(credential)) {
      return false;
    }
    return data(secret, KEY_DOCKER_CONFIG_JSON)
        .map(json -> sameJson(json, dockerConfigJson(credential)))
        .orElse(false);
  }

  public static Optional<String> annotation(Secret secret, String key) {
    Map<String, String> annotations = secret.getMetadata().getAnnotations();
    return Optional.ofNullable(annotations == null ? null : annotations.get(key));
  }

  /** Short, non-reversible identifier of a password. */
  public static String fingerprint(String password) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(password.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** Value of {@value #APPLIED} for a robot id and password. */
  public static String appliedMarker(long robotId, String password) {
    return robotId + ":" + fingerprint(password);
  }

  private static Optional<String> data(Secret secret, String key) {
    if (secret.getData() != null && secret.getData().get(key) != null) {
      return Optional.of(
          new String(
              Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.UTF_8));
    }
    if (secret.getStringData() != null && secret.getStringData().get(key) != null) {
      return Optional.of(secret.getStringData().get(key));
    }
    return Optional.empty();
  }

  private static boolean sameJson(String a, String b) {
    try {
      return JSON.readTree(a).equals(JSON.readTree(b));
    } catch (JsonProcessingException e) {
      return false;
    }
  }

  private static String encode(String value) {
    return Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8));
  }
}
