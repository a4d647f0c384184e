package io.harborrobot.operator.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.WatchEvent;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.Test;

/**
 * HarborRobots and connections that do not fit the model, as a non-validating API server would
 * serve them, are read with what does not fit set aside and named in the API server's words.
 */
class TolerantDeserializerTest {

  private final KubernetesSerialization serialization = new KubernetesSerialization();

  private HarborRobot robot(String spec) {
    return serialization.unmarshal(
        """
        {"apiVersion": "harborrobot.io/v1alpha1", "kind": "HarborRobot",
         "metadata": {"name": "ci", "namespace": "team-a", "resourceVersion": "7"},
         "spec": %s}
        """
            .formatted(spec),
        HarborRobot.class);
  }

  @Test
  void aRobotThatFitsHasNoProblems() {
    HarborRobot robot =
        robot("{\"project\": \"team-a\", \"preset\": \"Pull\", \"durationDays\": 30}");

    assertThat(robot.readProblems()).isEmpty();
    assertThat(robot.getSpec().getDurationDays()).isEqualTo(30);
  }

  @Test
  void everyFieldThatDoesNotFitIsSetAsideAndNamed() {
    HarborRobot robot =
        robot(
            """
            {"project": "team-a", "preset": "Admin", "durationDays": "abc", "disabled": "yes",
             "admin": true, "description": "kept",
             "permissions": [{"resource": "repository", "actions": "pull,push"}],
             "deletionPolicy": "Retain"}
            """);

    assertThat(robot.readProblems())
        .containsExactlyInAnyOrder(
            "spec.preset: Unsupported value: \"Admin\": supported values: \"CI\", \"Pull\","
                + " \"Push\"",
            "spec.durationDays must be of type integer, not string",
            "spec.disabled must be of type boolean, not string",
            "unknown field \"spec.admin\"",
            "spec.permissions[0].actions must be of type array, not string",
            "spec.deletionPolicy: Unsupported value: \"Retain\": supported values: \"Delete\","
                + " \"Orphan\"");
    // What fitted is there; the rest is not guessed.
    assertThat(robot.getSpec().getProject()).isEqualTo("team-a");
    assertThat(robot.getSpec().getDescription()).isEqualTo("kept");
    assertThat(robot.getSpec().getPreset()).isNull();
    assertThat(robot.getSpec().getDeletionPolicy()).isNotEqualTo(DeletionPolicy.Orphan);
    assertThat(robot.getMetadata().getName()).isEqualTo("ci");
  }

  @Test
  void numbersOutOfRangeAndFractionsAreNamed() {
    assertThat(robot("{\"durationDays\": 9223372036854775807}").readProblems())
        .containsExactly("spec.durationDays: 9223372036854775807 is out of range");
    assertThat(robot("{\"durationDays\": 1.5}").readProblems())
        .containsExactly("spec.durationDays must be of type integer, not number");
  }

  @Test
  void aSpecOfTheWrongShapeIsSetAsideWhole() {
    HarborRobot robot = robot("[{\"connectionRef\": \"harbor\"}]");

    assertThat(robot.readProblems()).containsExactly("spec must be of type object, not array");
    assertThat(robot.getSpec()).isNull();
  }

  @Test
  void aStatusFromANewerOperatorIsReadWithoutProblems() {
    HarborRobot robot =
        serialization.unmarshal(
            """
            {"apiVersion": "harborrobot.io/v1alpha1", "kind": "HarborRobot",
             "metadata": {"name": "ci", "namespace": "team-a"},
             "spec": {"project": "team-a", "preset": "Pull"},
             "status": {"robotId": 12, "newerField": {"x": 1}}}
            """,
            HarborRobot.class);

    assertThat(robot.readProblems()).isEmpty();
    assertThat(robot.getStatus().getRobotId()).isEqualTo(12L);
  }

  @Test
  void unreadableMetadataStillFails() {
    assertThatThrownBy(
            () ->
                serialization.unmarshal(
                    "{\"apiVersion\": \"harborrobot.io/v1alpha1\", \"kind\": \"HarborRobot\","
                        + " \"metadata\": {\"name\": [1]}, \"spec\": {}}",
                    HarborRobot.class))
        .hasStackTraceContaining("ObjectMeta[\"name\"]");
  }

  @Test
  void aValueThatIsNotAnObjectIsRefused() {
    assertThatThrownBy(() -> serialization.unmarshal("\"ci\"", HarborRobot.class))
        .hasStackTraceContaining("HarborRobot");
  }

  @Test
  void aCopyOfARobotReadsTheSameAsTheOriginal() {
    // JOSDK copies every resource before a reconcile through the same deserializer (from tokens).
    HarborRobot robot =
        robot("{\"project\": \"team-a\", \"preset\": \"Pull\", \"durationDays\": 30}");

    HarborRobot copy = serialization.clone(robot);

    assertThat(copy).isNotSameAs(robot);
    assertThat(serialization.asJson(copy)).isEqualTo(serialization.asJson(robot));
    assertThat(copy.getSpec().getDurationDays()).isEqualTo(30);
    assertThat(copy.readProblems()).isEmpty();
    assertThat(copy.getPlural()).isEqualTo("harborrobots");
  }

  @Test
  void watchEventsCarryTheProblems() {
    // How an informer reads a change: a WatchEvent whose object is typed by apiVersion and kind.
    serialization.registerKubernetesResource(HarborConnection.class);
    WatchEvent event =
        serialization.unmarshal(
            """
            {"type": "MODIFIED", "object": {"apiVersion": "harborrobot.io/v1alpha1",
             "kind": "HarborConnection", "metadata": {"name": "harbor", "namespace": "team-a"},
             "spec": {"url": "https://harbor.example.com", "insecureSkipTLSVerify": "yes"}}}
            """,
            WatchEvent.class);

    Object object = event.getObject();
    assertThat(object).isInstanceOf(HarborConnection.class);
    assertThat(((HarborConnection) object).readProblems())
        .containsExactly("spec.insecureSkipTLSVerify must be of type boolean, not string");
    assertThat(((HarborConnection) object).getSpec().getUrl())
        .isEqualTo("https://harbor.example.com");
  }
}
