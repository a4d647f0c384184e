package io.harborrobot.operator.bench;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesAttributesExtractor;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.crud.Attribute;
import io.fabric8.mockwebserver.crud.AttributeSet;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.harborrobot.operator.sandbox.InMemoryKubernetes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The in-memory Kubernetes API of the benchmark: fabric8's mock server in CRUD mode, as {@link
 * InMemoryKubernetes} runs it, with two differences that matter at the benchmark's sizes.
 *
 * <ul>
 *   <li>Objects are also indexed by name. The stock CRUD dispatcher compares every stored object
 *       with the request on each GET, PUT, PATCH and POST (measured: 35 ms per GET with 30,000
 *       objects, and creating 30,000 Secrets took 7 minutes), so with 10,000 HarborRobots and
 *       50,000 Secrets the API server, not the operator, would be what is measured. A real API
 *       server reads an object by key. Lists and watches still go through the stock code.
 *   <li>Every request is counted, by verb and resource, and then forgotten (the mock server keeps
 *       each one, with its body, until it is taken). Requests of the benchmark's own client carry
 *       the user agent {@value #BENCH_USER_AGENT} and are counted apart from the operator's.
 * </ul>
 */
final class IndexedApiServer implements AutoCloseable {

  static final String BENCH_USER_AGENT = "harbor-robot-operator-bench";

  // Kept in a field: JUL holds loggers weakly, and the mock server logs every request at INFO.
  private static final Logger MOCK_SERVER_LOG = Logger.getLogger("io.fabric8.mockwebserver");

  private final KubernetesMockServer server;
  private final IndexedCrudDispatcher crud;
  private final KubernetesClient client;
  private final String url;
  private final ScheduledExecutorService drainer;
  private final Map<String, AtomicLong> operatorRequests = new ConcurrentHashMap<>();
  private final AtomicLong benchRequests = new AtomicLong();
  private final Set<String> secretCollectionRequests = ConcurrentHashMap.newKeySet();

  private IndexedApiServer(KubernetesMockServer server, IndexedCrudDispatcher crud) {
    this.server = server;
    this.crud = crud;
    this.url = "http://127.0.0.1:" + server.getPort();
    Config config = Config.empty();
    config.setMasterUrl(url);
    config.setTrustCerts(true);
    config.setNamespace("default");
    config.setUserAgent(BENCH_USER_AGENT);
    config.setRequestTimeout(120_000);
    config.setConnectionTimeout(30_000);
    this.client = new KubernetesClientBuilder().withConfig(config).build();
    this.drainer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "bench-api-requests");
              t.setDaemon(true);
              return t;
            });
    drainer.scheduleWithFixedDelay(this::drain, 200, 200, TimeUnit.MILLISECONDS);
  }

  static IndexedApiServer start() {
    MOCK_SERVER_LOG.setLevel(Level.WARNING);
    IndexedCrudDispatcher crud = new IndexedCrudDispatcher();
    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(Serialization.jsonMapper()),
            new MockWebServer(),
            new HashMap<>(),
            new BenchDispatcher(crud),
            false);
    try {
      server.init(InetAddress.getByName("127.0.0.1"), 0);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the in-memory Kubernetes API", e);
    }
    IndexedApiServer api = new IndexedApiServer(server, crud);
    InMemoryKubernetes.installCrds(api.client);
    return api;
  }

  KubernetesClient client() {
    return client;
  }

  String url() {
    return url;
  }

  /** A kubeconfig for this API server, for an operator started as another process. */
  Path writeKubeconfig(Path dir) throws IOException {
    Path file = dir.resolve("kubeconfig");
    Files.writeString(
        file,
        String.join(
            "\n",
            "apiVersion: v1",
            "kind: Config",
            "clusters:",
            "  - name: bench",
            "    cluster:",
            "      server: " + url,
            "users:",
            "  - name: bench",
            "    user:",
            "      token: bench",
            "contexts:",
            "  - name: bench",
            "    context:",
            "      cluster: bench",
            "      user: bench",
            "      namespace: default",
            "current-context: bench",
            ""),
        StandardCharsets.UTF_8);
    return file;
  }

  /** The operator's requests so far, by {@code VERB resource} (e.g. {@code PUT secrets}). */
  Map<String, Long> operatorRequests() {
    drain();
    Map<String, Long> counts = new TreeMap<>();
    operatorRequests.forEach((k, v) -> counts.put(k, v.get()));
    return counts;
  }

  /**
   * Every distinct list or watch of Secrets the operator made, as path and selector (without
   * resource versions and timeouts): to see that none of them reads Secrets it does not manage.
   */
  Set<String> operatorSecretCollectionRequests() {
    drain();
    return Collections.unmodifiableSet(new TreeSet<>(secretCollectionRequests));
  }

  /** Whether the name index holds exactly the objects the server holds (for tests). */
  boolean indexConsistent() {
    return crud.indexMatchesStore();
  }

  /** How many objects the server holds. */
  int objectCount() {
    return crud.size();
  }

  private synchronized void drain() {
    try {
      for (RecordedRequest request = server.takeRequest(0, TimeUnit.MILLISECONDS);
          request != null;
          request = server.takeRequest(0, TimeUnit.MILLISECONDS)) {
        String agent = request.getHeader("User-Agent");
        if (agent != null && agent.startsWith(BENCH_USER_AGENT)) {
          benchRequests.incrementAndGet();
          continue;
        }
        RequestKind kind = RequestKind.of(request.getMethod(), request.getPath());
        operatorRequests.computeIfAbsent(kind.key(), k -> new AtomicLong()).incrementAndGet();
        if (kind.resource().equals("secrets") && kind.collection()) {
          secretCollectionRequests.add(kind.normalizedPath());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    drainer.shutdownNow();
    client.close();
    try {
      server.destroy();
    } catch (IllegalStateException e) {
      // the mock server gives its HTTP server ten seconds to close; a loaded machine needs longer
    }
  }

  /**
   * What a request was: verb ({@code LIST} and {@code WATCH} for collection reads) and resource
   * (with {@code /status} for the status subresource).
   */
  record RequestKind(String verb, String resource, boolean collection, String normalizedPath) {

    String key() {
      return verb + " " + resource;
    }

    static RequestKind of(String method, String path) {
      URI uri = URI.create(path);
      String[] parts = uri.getRawPath().replaceAll("^/+|/+$", "").split("/");
      // /api/v1[/namespaces/ns]/plural[/name[/sub]] or /apis/group/version[/namespaces/ns]/...
      int at = parts.length > 0 && parts[0].equals("api") ? 2 : 3;
      if (parts.length > at + 1 && parts[at].equals("namespaces") && parts.length > at + 2) {
        at += 2;
      }
      String resource = at < parts.length ? parts[at] : uri.getRawPath();
      boolean named = at + 1 < parts.length;
      String sub = at + 2 < parts.length ? "/" + parts[at + 2] : "";
      String query = uri.getRawQuery() == null ? "" : uri.getRawQuery();
      boolean watch = query.contains("watch=true");
      String verb = method;
      if (method.equals("GET") && !named) {
        verb = watch ? "WATCH" : "LIST";
      }
      StringBuilder normalized = new StringBuilder(uri.getRawPath());
      String selectors =
          java.util.Arrays.stream(query.split("&"))
              .filter(p -> p.startsWith("labelSelector=") || p.startsWith("fieldSelector="))
              .sorted()
              .reduce((a, b) -> a + "&" + b)
              .orElse("");
      if (!selectors.isEmpty()) {
        normalized.append('?').append(selectors);
      }
      return new RequestKind(
          verb, resource + sub, !named && method.equals("GET"), verb + " " + normalized);
    }
  }

  /**
   * Answers the SelfSubjectRulesReview JOSDK may ask for (everyone may do everything here, as in
   * {@link InMemoryKubernetes}); everything else goes to the CRUD dispatcher.
   */
  private static final class BenchDispatcher extends Dispatcher
      implements io.fabric8.kubernetes.client.server.mock.CustomResourceAware {

    private final IndexedCrudDispatcher crud;

    BenchDispatcher(IndexedCrudDispatcher crud) {
      this.crud = crud;
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
      if (request.method() == HttpMethod.POST
          && request
              .getPath()
              .startsWith("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")) {
        return new MockResponse()
            .setResponseCode(201)
            .setBody(Serialization.asJson(InMemoryKubernetes.everythingAllowed()));
      }
      return crud.dispatch(request);
    }

    @Override
    public void expectCustomResource(
        io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext rdc) {
      crud.expectCustomResource(rdc);
    }
  }

  /**
   * fabric8's CRUD dispatcher with an index by object name: reading, creating, replacing and
   * patching one object costs as much with 70,000 objects as with 10. The index is kept in step in
   * {@link #processEvent}, through which every change goes (under the dispatcher's write lock).
   */
  static final class IndexedCrudDispatcher extends KubernetesCrudDispatcher {

    /** Objects by name; each value is replaced as a whole, never changed in place. */
    private final ConcurrentHashMap<String, Map<AttributeSet, String>> byName =
        new ConcurrentHashMap<>();

    private final KubernetesAttributesExtractor extractor =
        (KubernetesAttributesExtractor) attributeExtractor;

    @Override
    public Map.Entry<AttributeSet, String> findResource(AttributeSet attributes) {
      String name = nameOf(attributes);
      if (name == null) {
        return super.findResource(attributes);
      }
      for (Map.Entry<AttributeSet, String> entry : byName.getOrDefault(name, Map.of()).entrySet()) {
        if (entry.getKey().matches(attributes)) {
          return entry;
        }
      }
      return null;
    }

    @Override
    public MockResponse handleGet(String path) {
      if (path.contains("watch=true")) {
        return super.handleGet(path);
      }
      AttributeSet query = extractor.fromPath(path);
      String name = nameOf(query);
      if (name == null) {
        return super.handleGet(path);
      }
      for (Map.Entry<AttributeSet, String> entry : byName.getOrDefault(name, Map.of()).entrySet()) {
        if (entry.getKey().matches(query)) {
          return new MockResponse().setResponseCode(200).setBody(entry.getValue());
        }
      }
      return new MockResponse().setResponseCode(404);
    }

    @Override
    public void processEvent(
        String path,
        AttributeSet pathAttributes,
        AttributeSet oldAttributes,
        GenericKubernetesResource resource,
        String newState) {
      // the key the stock code stores the new state under, computed the same way
      AttributeSet newAttributes = null;
      if (newState != null) {
        newAttributes =
            resource != null ? extractor.extract(resource) : extractor.fromResource(newState);
        if (!newAttributes.containsKey(KubernetesAttributesExtractor.PLURAL)) {
          newAttributes = AttributeSet.merge(pathAttributes, newAttributes);
        }
      }
      super.processEvent(path, pathAttributes, oldAttributes, resource, newState);
      if (oldAttributes != null) {
        String oldName = nameOf(oldAttributes);
        byName.computeIfPresent(
            oldName == null ? "" : oldName,
            (k, objects) -> {
              Map<AttributeSet, String> copy = new LinkedHashMap<>(objects);
              copy.remove(oldAttributes);
              return copy.isEmpty() ? null : Map.copyOf(copy);
            });
      }
      if (newAttributes != null) {
        AttributeSet key = newAttributes;
        String newName = nameOf(key);
        byName.compute(
            newName == null ? "" : newName,
            (k, objects) -> {
              Map<AttributeSet, String> copy =
                  new LinkedHashMap<>(objects == null ? Map.of() : objects);
              copy.put(key, newState);
              return Map.copyOf(copy);
            });
      }
    }

    /** Objects stored, as the stock dispatcher counts them. */
    int size() {
      return map.size();
    }

    /** Whether the index holds exactly what the stock dispatcher holds (for tests). */
    boolean indexMatchesStore() {
      Map<AttributeSet, String> indexed = new HashMap<>();
      byName.values().forEach(indexed::putAll);
      synchronized (map) {
        return indexed.equals(new HashMap<>(map));
      }
    }

    private static String nameOf(AttributeSet attributes) {
      Attribute name = attributes.getAttribute(KubernetesAttributesExtractor.NAME);
      if (name == null || name.getValues().size() != 1) {
        return null;
      }
      String value = name.getValues().get(0).toString();
      // "*" matches any name in the stock code: leave such a query to it
      return value == null || value.equals("*") ? null : value;
    }
  }
}
