package io.harborrobot.operator.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's HTTP port: {@code /metrics} in the Prometheus text format (OpenMetrics when the
 * scraper asks for it), {@code /healthz} for the liveness probe and {@code /readyz} for the
 * readiness probe. Nothing else, and nothing secret: the robots' state is in the metrics by name
 * only.
 */
public final class HttpEndpoints implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(HttpEndpoints.class);
  private static final String TEXT = "text/plain; charset=utf-8";

  private final HttpServer server;
  private final ExecutorService executor;

  private HttpEndpoints(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /**
   * Serves on {@code port} of every interface (0 for any free port, see {@link #port()}); {@code
   * health} is asked on every probe.
   */
  public static HttpEndpoints start(
      int port, PrometheusMeterRegistry registry, Supplier<Health> health) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(port), 16);
    server.createContext("/metrics", exchange -> metrics(exchange, registry));
    server.createContext("/healthz", exchange -> probe(exchange, health.get(), Health::live));
    server.createContext("/readyz", exchange -> probe(exchange, health.get(), Health::ready));
    // Two threads: a slow scrape must not hold up a probe.
    ExecutorService executor =
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread thread = new Thread(r, "http-endpoints");
              thread.setDaemon(true);
              return thread;
            });
    server.setExecutor(executor);
    server.start();
    LOG.info("Serving /metrics, /healthz and /readyz on port {}", server.getAddress().getPort());
    return new HttpEndpoints(server, executor);
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private static void metrics(HttpExchange exchange, PrometheusMeterRegistry registry)
      throws IOException {
    try (exchange) {
      if (!exact(exchange, "/metrics") || !readOnly(exchange)) {
        return;
      }
      String accept = exchange.getRequestHeaders().getFirst("Accept");
      String contentType =
          accept != null && accept.contains("application/openmetrics-text")
              ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
              : "text/plain; version=0.0.4; charset=utf-8";
      respond(exchange, 200, contentType, registry.scrape(contentType));
    }
  }

  private static void probe(
      HttpExchange exchange, Health health, java.util.function.Predicate<Health> passes)
      throws IOException {
    try (exchange) {
      if (!exact(exchange, exchange.getHttpContext().getPath()) || !readOnly(exchange)) {
        return;
      }
      if (passes.test(health)) {
        respond(exchange, 200, TEXT, "ok\n");
      } else {
        respond(exchange, 503, TEXT, String.join("\n", health.problems()) + "\n");
      }
    }
  }

  /** The contexts match by prefix; only the exact paths exist. */
  private static boolean exact(HttpExchange exchange, String path) throws IOException {
    if (exchange.getRequestURI().getPath().equals(path)) {
      return true;
    }
    respond(exchange, 404, TEXT, "not found\n");
    return false;
  }

  private static boolean readOnly(HttpExchange exchange) throws IOException {
    String method = exchange.getRequestMethod();
    if (method.equals("GET") || method.equals("HEAD")) {
      return true;
    }
    exchange.getResponseHeaders().set("Allow", "GET, HEAD");
    respond(exchange, 405, TEXT, "method not allowed\n");
    return false;
  }

  private static void respond(HttpExchange exchange, int status, String contentType, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    boolean head = exchange.getRequestMethod().equals("HEAD");
    exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
    if (!head) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
