package io.harborrobot.operator.sandbox;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.harborrobot.operator.validation.ManifestValidator;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * fabric8's mock Kubernetes API in CRUD mode, on a loopback port, with this project's CRDs
 * installed. It stores and watches objects like an API server but has no schema validation, no
 * server-side apply and no garbage collection.
 */
public final class InMemoryKubernetes implements AutoCloseable {

  /** The CRDs, as committed under crds/ and packaged into the jar. */
  public static final List<String> CRD_RESOURCES = ManifestValidator.PACKAGED_CRDS;

  // Kept in a field: JUL holds loggers weakly, and the mock server logs every request at INFO.
  private static final Logger MOCK_SERVER_LOG = Logger.getLogger("io.fabric8.mockwebserver");

  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(InMemoryKubernetes.class);

  private final KubernetesMockServer server;
  private final KubernetesClient client;

  private InMemoryKubernetes(KubernetesMockServer server) {
    this.server = server;
    this.client = server.createClient();
  }

  public static InMemoryKubernetes start() {
    MOCK_SERVER_LOG.setLevel(Level.WARNING);
    var responses =
        new HashMap<
            io.fabric8.mockwebserver.ServerRequest,
            java.util.Queue<io.fabric8.mockwebserver.ServerResponse>>();
    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(Serialization.jsonMapper()),
            new MockWebServer(),
            responses,
            new KubernetesMixedDispatcher(responses),
            false);
    try {
      server.init(InetAddress.getByName("127.0.0.1"), 0);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the in-memory Kubernetes API", e);
    }
    answerRulesReviews(server);
    InMemoryKubernetes kubernetes = new InMemoryKubernetes(server);
    kubernetes.installCrds();
    return kubernetes;
  }

  /**
   * The CRUD mode would store a SelfSubjectRulesReview and return it without the answer. JOSDK asks
   * one before leader election to see that it may use Leases; here, with no RBAC, everyone may do
   * everything, as the answer says.
   */
  private static void answerRulesReviews(KubernetesMockServer server) {
    server
        .expect()
        .post()
        .withPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
        .andReply(
            201,
            request ->
                new SelfSubjectRulesReviewBuilder()
                    .withNewStatus()
                    .withIncomplete(false)
                    .addNewResourceRule()
                    .withApiGroups("*")
                    .withResources("*")
                    .withVerbs("*")
                    .endResourceRule()
                    .endStatus()
                    .build())
        .always();
  }

  public KubernetesClient client() {
    return client;
  }

  /**
   * The requests received since the last call (the mock server records every one), as {@code METHOD
   * path}, oldest first: to see which verbs the operator uses.
   */
  public List<String> takeRequests() {
    List<String> requests = new java.util.ArrayList<>();
    try {
      for (var request = server.takeRequest(0, TimeUnit.MILLISECONDS);
          request != null;
          request = server.takeRequest(0, TimeUnit.MILLISECONDS)) {
        requests.add(request.getMethod() + " " + request.getPath());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return requests;
  }

  /** A new client of this API server, e.g. for a second operator instance. */
  public KubernetesClient newClient() {
    return server.createClient();
  }

  private void installCrds() {
    for (String resource : CRD_RESOURCES) {
      try (InputStream in = getClass().getClassLoader().getResourceAsStream(resource)) {
        if (in == null) {
          throw new IllegalStateException(resource + " is missing from the classpath");
        }
        CustomResourceDefinition crd = Serialization.unmarshal(in, CustomResourceDefinition.class);
        client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /**
   * Stops the API server. The mock server gives its HTTP server ten seconds to close and throws
   * when a loaded machine needs longer; by then every test or sandbox result is known, so a slow
   * teardown is reported and does not turn a finished run into a failure.
   */
  @Override
  public void close() {
    client.close();
    try {
      server.destroy();
    } catch (IllegalStateException e) {
      LOG.warn("The in-memory Kubernetes API did not shut down cleanly: {}", e.toString());
    }
  }
}
