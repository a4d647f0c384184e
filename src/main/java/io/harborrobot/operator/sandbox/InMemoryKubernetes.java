package io.harborrobot.operator.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.CustomResourceAware;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.server.mock.Resetable;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import io.harborrobot.operator.validation.ManifestValidator;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/**
 * fabric8's mock Kubernetes API in CRUD mode, on a loopback port, with this project's CRDs
 * installed. It stores and watches objects like an API server but has no schema validation, no
 * server-side apply and no garbage collection.
 *
 * <p>Faults can be injected on the Kubernetes side: {@link #failNext} answers matching requests
 * with an error {@code Status}, {@link #editBeforeNext} changes a stored object right before a
 * matching request is served (so that a write based on what was read before meets a real 409), and
 * {@link #setUnavailable} answers every request with 503 and drops the open watches. Without a
 * fault set, requests are served as the mock server serves them.
 *
 * <p>One difference from the plain mock server: a watch that ends is cleaned up off the server's
 * event loop. fabric8's watch listener waits for its pending event sends when it closes, on the
 * server's only event loop thread, while a pending send waits (up to 30 s) for that same thread to
 * write it: every request to the server stalled for 30 s whenever an operator stopped while events
 * were flowing. See {@link Watch}.
 */
public final class InMemoryKubernetes implements AutoCloseable {

  /** The CRDs, as committed under crds/ and packaged into the jar. */
  public static final List<String> CRD_RESOURCES = ManifestValidator.PACKAGED_CRDS;

  // Kept in a field: JUL holds loggers weakly, and the mock server logs every request at INFO.
  private static final Logger MOCK_SERVER_LOG = Logger.getLogger("io.fabric8.mockwebserver");

  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(InMemoryKubernetes.class);

  private final KubernetesMockServer server;
  private final FaultyDispatcher dispatcher;
  private final KubernetesClient client;

  private InMemoryKubernetes(KubernetesMockServer server, FaultyDispatcher dispatcher) {
    this.server = server;
    this.dispatcher = dispatcher;
    this.client = server.createClient();
  }

  public static InMemoryKubernetes start() {
    MOCK_SERVER_LOG.setLevel(Level.WARNING);
    var responses =
        new HashMap<
            io.fabric8.mockwebserver.ServerRequest,
            java.util.Queue<io.fabric8.mockwebserver.ServerResponse>>();
    FaultyDispatcher dispatcher = new FaultyDispatcher(new KubernetesMixedDispatcher(responses));
    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(Serialization.jsonMapper()),
            new MockWebServer(),
            responses,
            dispatcher,
            false);
    try {
      server.init(InetAddress.getByName("127.0.0.1"), 0);
    } catch (IOException e) {
      dispatcher.closer.shutdown();
      throw new UncheckedIOException("cannot start the in-memory Kubernetes API", e);
    }
    answerRulesReviews(server);
    InMemoryKubernetes kubernetes = new InMemoryKubernetes(server, dispatcher);
    installCrds(kubernetes.client);
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
        .andReply(201, request -> everythingAllowed())
        .always();
  }

  /** The answer to a SelfSubjectRulesReview: the operator may do everything. */
  public static SelfSubjectRulesReview everythingAllowed() {
    return new SelfSubjectRulesReviewBuilder()
        .withNewStatus()
        .withIncomplete(false)
        .addNewResourceRule()
        .withApiGroups("*")
        .withResources("*")
        .withVerbs("*")
        .endResourceRule()
        .endStatus()
        .build();
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

  // ---------------------------------------------------------------------------------------------
  // Fault injection

  /**
   * Answers the next {@code times} requests with method {@code method} (any method for {@code "*"})
   * and a path (with its query) in which {@code pathRegex} is found, with HTTP {@code status} and a
   * Kubernetes {@code Status} body as an API server sends it: e.g. 409 {@code Conflict} ("the
   * object has been modified"; {@code AlreadyExists} for a POST), 503 {@code ServiceUnavailable},
   * 429 {@code TooManyRequests} (with {@code Retry-After: 1}), 404 {@code NotFound}, 500 {@code
   * InternalError}; other codes without a reason. The request is not applied. GET rules match gets,
   * lists and watches alike ({@code watch=true} is in the query). Faults are tried in the order
   * they were added; the first that matches a request decides.
   */
  public void failNext(String method, String pathRegex, int status, int times) {
    if (status < 400 || status > 599) {
      throw new IllegalArgumentException("not an error status: " + status);
    }
    dispatcher.add(new Rule(method, pathRegex, times, status, null));
  }

  /**
   * Right before the next request with method {@code method} (or {@code "*"}) and a path in which
   * {@code pathRegex} is found is served, changes the object that request is about (its path
   * without the query and a subresource such as {@code /status}; for a POST, the object named in
   * its body): reads it as {@code type}, passes it to {@code edit} (null when it does not exist)
   * and stores what {@code edit} returns with a PUT, or a POST when it did not exist, as another
   * client would. Its resourceVersion changes, so a write of the matching request that was based on
   * an earlier read meets a real 409 Conflict. When {@code edit} returns null, nothing is changed
   * and the edit waits for the next matching request: that way it can pick its moment from the
   * stored object. {@code edit} runs inside the server and must not call it. When the edit cannot
   * be stored, the matching request is answered 500 and the reason is logged.
   */
  public <T extends HasMetadata> void editBeforeNext(
      String method, String pathRegex, Class<T> type, UnaryOperator<T> edit) {
    dispatcher.add(new Rule(method, pathRegex, 1, 0, new Edit<>(type, edit)));
  }

  /**
   * While on, every request is answered 503 ServiceUnavailable (not applied), and turning it on
   * closes every open watch, as an API server that goes away does; clients have to reconnect, and
   * cannot until it is turned off.
   */
  public void setUnavailable(boolean unavailable) {
    dispatcher.unavailable = unavailable;
    if (unavailable) {
      dispatcher.closeWatches();
    }
  }

  /** Whether {@link #setUnavailable} is on. */
  public boolean unavailable() {
    return dispatcher.unavailable;
  }

  /** How many requests were answered with an injected fault or preceded by an injected edit. */
  public long faultsServed() {
    return dispatcher.served.get();
  }

  /** How many injected failures and edits are still waiting for a matching request. */
  public int pendingFaults() {
    return dispatcher.pending();
  }

  /** Drops the faults not yet served and ends an outage. */
  public void clearFaults() {
    dispatcher.clear();
    dispatcher.unavailable = false;
  }

  /** One injected fault: {@code times} requests answered {@code status}, or one {@code edit}. */
  private record Rule(String method, Pattern path, AtomicInteger left, int status, Edit<?> edit) {

    Rule(String method, String pathRegex, int times, int status, Edit<?> edit) {
      this(method, Pattern.compile(pathRegex), new AtomicInteger(times), status, edit);
      if (times < 1) {
        throw new IllegalArgumentException("times must be at least 1: " + times);
      }
    }

    boolean matches(RecordedRequest request) {
      return ("*".equals(method) || request.getMethod().equalsIgnoreCase(method))
          && path.matcher(request.getPath()).find();
    }
  }

  /** A change to a stored object, made as another client would make it. */
  private record Edit<T extends HasMetadata>(Class<T> type, UnaryOperator<T> change) {

    /**
     * Whether the object of {@code request} was changed (false: {@code change} returned null);
     * throws {@link EditFailed} when it could not be.
     */
    boolean apply(Dispatcher store, RecordedRequest request, Target target) {
      String name = target.name() != null ? target.name() : target.nameInBody(request);
      if (name == null) {
        throw new EditFailed("the request names no object");
      }
      String objectPath = target.collectionPath() + "/" + name;
      MockResponse current = store.dispatch(internal(HttpMethod.GET, objectPath, null));
      T before =
          current.code() == 200 ? Serialization.unmarshal(text(current.getBody()), type) : null;
      T after;
      try {
        after = change.apply(before);
      } catch (RuntimeException e) {
        throw new EditFailed("the edit of " + objectPath + " threw " + e);
      }
      if (after == null) {
        return false;
      }
      MockResponse stored =
          before == null
              ? store.dispatch(
                  internal(HttpMethod.POST, target.collectionPath(), Serialization.asJson(after)))
              : store.dispatch(internal(HttpMethod.PUT, objectPath, Serialization.asJson(after)));
      if (stored.code() / 100 != 2) {
        throw new EditFailed(
            "storing the edit of "
                + objectPath
                + " answered "
                + stored.code()
                + " "
                + text(stored.getBody()));
      }
      return true;
    }
  }

  /** An injected edit that could not be made. */
  private static final class EditFailed extends RuntimeException {
    EditFailed(String message) {
      super(message);
    }
  }

  /** What a request path is about: {@code /api(s)/.../[namespaces/ns/]resource[/name[/sub]]}. */
  private record Target(String group, String resource, String name, String collectionPath) {

    static Target of(String path) {
      int query = path.indexOf('?');
      String[] parts = (query < 0 ? path : path.substring(0, query)).split("/");
      // parts[0] is empty (the path starts with '/')
      int start = parts.length > 1 && "apis".equals(parts[1]) ? 4 : 3;
      String group = start == 4 && parts.length > 2 ? parts[2] : "";
      if (parts.length <= start) {
        return new Target(group, null, null, path);
      }
      int resource =
          "namespaces".equals(parts[start]) && parts.length > start + 2 ? start + 2 : start;
      String name = parts.length > resource + 1 ? parts[resource + 1] : null;
      String collection = String.join("/", java.util.Arrays.copyOf(parts, resource + 1));
      return new Target(group, parts[resource], name, collection);
    }

    String nameInBody(RecordedRequest request) {
      try {
        JsonNode body = Serialization.jsonMapper().readTree(text(request.getBody()));
        String name = body == null ? "" : body.path("metadata").path("name").asText("");
        return name.isEmpty() ? null : name;
      } catch (IOException e) {
        return null;
      }
    }
  }

  private static RecordedRequest internal(HttpMethod method, String path, String json) {
    return new RecordedRequest(
        "HTTP/1.1",
        method,
        path,
        Headers.builder().add("Content-Type", "application/json").build(),
        new Buffer(json == null ? new byte[0] : json.getBytes(StandardCharsets.UTF_8)));
  }

  /** The body without consuming it (the mock server's readUtf8 empties the buffer). */
  private static String text(Buffer body) {
    return body == null ? "" : new String(body.getBytes(), StandardCharsets.UTF_8);
  }

  /** An error answer with the {@code Status} body an API server sends. */
  private static MockResponse status(int code, String reason, String message, Target target) {
    StatusBuilder status =
        new StatusBuilder()
            .withStatus("Failure")
            .withCode(code)
            .withReason(reason)
            .withMessage(message)
            .withNewMetadata()
            .endMetadata();
    if (target.resource() != null) {
      status
          .withNewDetails()
          .withName(target.name())
          .withGroup(target.group().isEmpty() ? null : target.group())
          .withKind(target.resource())
          .endDetails();
    }
    Status body = status.build();
    MockResponse response =
        new MockResponse()
            .setResponseCode(code)
            .setHeader("Content-Type", "application/json")
            .setBody(Serialization.asJson(body));
    if (code == 429) {
      response.setHeader("Retry-After", 1);
    }
    return response;
  }

  /** The answer of an injected failure, as the API server words it. */
  private static MockResponse injected(int code, RecordedRequest request, Target target) {
    String what =
        target.resource() == null
            ? "the request"
            : target.resource()
                + (target.group().isEmpty() ? "" : "." + target.group())
                + " \""
                + (target.name() != null ? target.name() : target.nameInBody(request))
                + "\"";
    return switch (code) {
      case 409 ->
          "POST".equals(request.getMethod())
              ? status(409, "AlreadyExists", what + " already exists", target)
              : status(
                  409,
                  "Conflict",
                  "Operation cannot be fulfilled on "
                      + what
                      + ": the object has been modified; please apply your changes to the latest"
                      + " version and try again",
                  target);
      case 503 ->
          status(
              503,
              "ServiceUnavailable",
              "the server is currently unable to handle the request",
              target);
      case 429 ->
          status(
              429,
              "TooManyRequests",
              "the server has received too many requests and has asked us to try again later",
              target);
      case 404 -> status(404, "NotFound", what + " not found", target);
      default ->
          status(code, code == 500 ? "InternalError" : null, "injected fault: " + what, target);
    };
  }

  /**
   * The mock server's dispatcher ({@link KubernetesMixedDispatcher}) with the injected faults in
   * front of it, and watches that end off the event loop.
   */
  private static final class FaultyDispatcher extends Dispatcher
      implements Resetable, CustomResourceAware {

    private final KubernetesMixedDispatcher delegate;
    private final List<Rule> rules = new ArrayList<>();
    private final AtomicLong served = new AtomicLong();
    private final Set<Watch> watches = ConcurrentHashMap.newKeySet();

    /** The CRUD dispatcher's watch listeners, to take a watch out before it ends (or null). */
    private final Set<?> watchListeners;

    /** Where ended watches are cleaned up: never on the server's event loop. */
    private final ExecutorService closer =
        Executors.newCachedThreadPool(
            r -> {
              Thread thread = new Thread(r, "in-memory-kubernetes-watch-end");
              thread.setDaemon(true);
              return thread;
            });

    private volatile boolean unavailable;

    FaultyDispatcher(KubernetesMixedDispatcher delegate) {
      this.delegate = delegate;
      this.watchListeners = watchListenersOf(delegate);
    }

    void add(Rule rule) {
      synchronized (rules) {
        rules.add(rule);
      }
    }

    void clear() {
      synchronized (rules) {
        rules.clear();
      }
    }

    int pending() {
      synchronized (rules) {
        return rules.stream().mapToInt(r -> r.left().get()).sum();
      }
    }

    /**
     * The first rule that matches, or null. A failure is counted as used at once (and dropped when
     * used up); an edit only once it has been made, see {@link #used}.
     */
    private Rule claim(RecordedRequest request) {
      synchronized (rules) {
        for (Rule rule : rules) {
          if (rule.matches(request)) {
            if (rule.edit() == null) {
              used(rule);
            }
            return rule;
          }
        }
        return null;
      }
    }

    private void used(Rule rule) {
      synchronized (rules) {
        if (rule.left().decrementAndGet() <= 0) {
          rules.remove(rule);
        }
      }
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
      if (unavailable) {
        served.incrementAndGet();
        return injected(503, request, Target.of(request.getPath()));
      }
      Rule rule = claim(request);
      if (rule != null) {
        Target target = Target.of(request.getPath());
        if (rule.edit() == null) {
          served.incrementAndGet();
          LOG.info("Injected fault: {} answered {}", request, rule.status());
          return injected(rule.status(), request, target);
        }
        try {
          if (rule.edit().apply(delegate, request, target)) {
            used(rule);
            served.incrementAndGet();
            LOG.info("Injected fault: the object of {} was edited before it was served", request);
          }
        } catch (EditFailed e) {
          used(rule);
          LOG.error("Injected edit before {} failed: {}", request, e.getMessage());
          return status(
              500,
              "InternalError",
              "injected edit before " + request + " failed: " + e.getMessage(),
              target);
        }
      }
      MockResponse response = delegate.dispatch(request);
      if (response != null && response.getWebSocketListener() != null) {
        response.withWebSocketUpgrade(new Watch(response.getWebSocketListener()));
      }
      return response;
    }

    void closeWatches() {
      for (Watch watch : watches) {
        watch.goAway();
      }
    }

    @Override
    public void shutdown() {
      delegate.shutdown();
    }

    @Override
    public void releaseResources() {
      delegate.releaseResources();
      closer.shutdown();
    }

    @Override
    public void reset() {
      delegate.reset();
    }

    @Override
    public void expectCustomResource(CustomResourceDefinitionContext rdc) {
      delegate.expectCustomResource(rdc);
    }

    /**
     * One watch, as the CRUD dispatcher's listener serves it, with its end moved off the event
     * loop.
     *
     * <p>The cause of the stall it avoids (fabric8 kubernetes-server-mock and mockwebserver 7.8.0):
     * the mock server handles every connection on one Vert.x event loop thread, which also calls
     * the listeners. {@code WatchEventsListener} sends each event from an executor of its own with
     * {@code VertxMockWebSocket.send}, which blocks until the event loop has written it (at most 30
     * s). When the client closes the watch, the event loop calls {@code
     * WatchEventsListener.onClosed}, which shuts that executor down and waits for it to finish: an
     * event still being sent then waits for the event loop, and the event loop for the event, until
     * the send gives up after 30 s. Meanwhile no request is served. Here the end runs on another
     * thread, so the event loop writes (or drops) the pending events and the executor finishes at
     * once; and the listener is taken out of the CRUD dispatcher's set first, so that no write
     * schedules an event on an executor that is shutting down (which would throw inside the write,
     * leaving other watchers without the event and the writer without an answer).
     */
    private final class Watch extends WebSocketListener {

      private final WebSocketListener listener;
      private volatile WebSocket socket;

      Watch(WebSocketListener listener) {
        this.listener = listener;
      }

      @Override
      public void onBeforeAccept(WebSocket webSocket, Response response) {
        listener.onBeforeAccept(webSocket, response);
      }

      @Override
      public void onOpen(WebSocket webSocket, Response response) {
        socket = webSocket;
        watches.add(this);
        listener.onOpen(webSocket, response);
        if (unavailable) {
          goAway();
        }
      }

      @Override
      public void onMessage(WebSocket webSocket, String text) {
        listener.onMessage(webSocket, text);
      }

      @Override
      public void onMessage(WebSocket webSocket, byte[] bytes) {
        listener.onMessage(webSocket, bytes);
      }

      @Override
      public void onClosing(WebSocket webSocket, int code, String reason) {
        listener.onClosing(webSocket, code, reason);
      }

      @Override
      public void onClosed(WebSocket webSocket, int code, String reason) {
        end(() -> listener.onClosed(webSocket, code, reason));
      }

      @Override
      public void onFailure(WebSocket webSocket, Throwable error, Response response) {
        end(() -> listener.onFailure(webSocket, error, response));
      }

      /** Closes the watch from the server's side, as an API server that goes away does. */
      void goAway() {
        WebSocket open = socket;
        if (open != null) {
          open.close(1001, "the API server is unavailable");
        }
      }

      private void end(Runnable cleanup) {
        watches.remove(this);
        if (watchListeners != null) {
          watchListeners.remove(listener);
        }
        try {
          closer.execute(cleanup);
        } catch (java.util.concurrent.RejectedExecutionException e) {
          // the server is shutting down: clean up here, as the mock server would
          cleanup.run();
        }
      }
    }
  }

  /**
   * The set in which {@link KubernetesCrudDispatcher} keeps its watch listeners (private fields of
   * fabric8 7.8.0), or null when this fabric8 has them elsewhere: then an ending watch may, for a
   * moment, make a concurrent write fail.
   */
  private static Set<?> watchListenersOf(KubernetesMixedDispatcher mixed) {
    try {
      Field crudField =
          KubernetesMixedDispatcher.class.getDeclaredField("kubernetesCrudDispatcher");
      crudField.setAccessible(true);
      Object crud = crudField.get(mixed);
      Field listenersField = KubernetesCrudDispatcher.class.getDeclaredField("watchEventListeners");
      listenersField.setAccessible(true);
      return (Set<?>) listenersField.get(crud);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn(
          "Cannot reach the mock server's watch listeners ({}); watches end unguarded",
          e.toString());
      return null;
    }
  }

  /** Installs this project's CRDs (as packaged) through {@code client}. */
  public static void installCrds(KubernetesClient client) {
    for (String resource : CRD_RESOURCES) {
      try (InputStream in =
          InMemoryKubernetes.class.getClassLoader().getResourceAsStream(resource)) {
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
    } finally {
      dispatcher.closer.shutdown();
    }
  }
}
