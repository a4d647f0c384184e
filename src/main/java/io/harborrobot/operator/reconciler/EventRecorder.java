package io.harborrobot.operator.reconciler;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes core/v1 Events about a resource, as {@code kubectl describe} shows them. An Event that
 * cannot be written is logged and dropped: Events are for people, never a reason to fail.
 */
public class EventRecorder {

  public static final String COMPONENT = "harbor-robot-operator";
  private static final Logger LOG = LoggerFactory.getLogger(EventRecorder.class);

  private final KubernetesClient client;
  private final Clock clock;

  public EventRecorder(KubernetesClient client, Clock clock) {
    this.client = client;
    this.clock = clock;
  }

  public void normal(HasMetadata about, String reason, String message) {
    record(about, "Normal", reason, message);
  }

  public void warning(HasMetadata about, String reason, String message) {
    record(about, "Warning", reason, message);
  }

  private void record(HasMetadata about, String type, String reason, String message) {
    String now = clock.instant().toString();
    // Events about cluster-scoped objects (a ClusterHarborConnection) live in "default", as
    // Kubernetes' own do.
    String objectNamespace = about.getMetadata().getNamespace();
    String namespace = objectNamespace == null ? "default" : objectNamespace;
    Event event =
        new EventBuilder()
            .withNewMetadata()
            .withName(
                about.getMetadata().getName()
                    + "."
                    + UUID.randomUUID().toString().replace("-", "").substring(0, 16))
            .withNamespace(namespace)
            .endMetadata()
            .withInvolvedObject(
                new ObjectReferenceBuilder()
                    .withApiVersion(about.getApiVersion())
                    .withKind(about.getKind())
                    .withName(about.getMetadata().getName())
                    .withNamespace(objectNamespace)
                    .withUid(about.getMetadata().getUid())
                    .withResourceVersion(about.getMetadata().getResourceVersion())
                    .build())
            .withType(type)
            .withReason(reason)
            .withMessage(message)
            .withFirstTimestamp(now)
            .withLastTimestamp(now)
            .withCount(1)
            .withNewSource()
            .withComponent(COMPONENT)
            .endSource()
            .withReportingComponent(COMPONENT)
            .build();
    LOG.info("{} {}/{}: {} {}", type, namespace, about.getMetadata().getName(), reason, message);
    try {
      client.v1().events().inNamespace(namespace).resource(event).create();
    } catch (RuntimeException e) {
      LOG.warn(
          "could not record event {} for {}/{}: {}",
          reason,
          namespace,
          about.getMetadata().getName(),
          e.getMessage());
    }
  }
}
