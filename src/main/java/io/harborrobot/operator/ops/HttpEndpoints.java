package io.harborrobot.operator.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
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

  static {
    // The JDK's server waits forever for a request's headers by default: a client that connects
    // and sends nothing would hold a thread. Read once, when the server classes load.
    setIfAbsent("sun.net.httpserver.maxReqTime", "5");
    setIfAbsent("sun.net.httpserver.maxRspTime", "30");
  }

  private static void setIfAbsent(String property, String seconds) {
    if (System.getProperty(property) == null) {
      System.setProperty(property, seconds);
    }
  }

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
    HttpServer server = HttpServer.create(new InetSocketAddress(port), 64);
    server.createContext("/metrics", guarded(exchange -> metrics(exchange, registry)));
    server.createContext(
        "/healthz", guarded(exchange -> probe(exchange, health.get(), Health::live)));
    server.createContext(
        "/readyz", guarded(exchange -> probe(exchange, health.get(), Health::ready)));
    // A thread per exchange (idle ones go after a minute): a slow scrape or a client that stalls
    // (cut off after maxReqTime) must not hold up a probe.
    ExecutorService executor =
        Executors.newCachedThreadPool(
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

  /**
   * Answers 500 when a handler fails, and says why in the log: a probe that fails without a word
   * would restart the pod with no explanation. An I/O error is the connection's, not the operator's
   * (a scraper that timed out, a server stopping), and is logged at debug only.
   */
  private static HttpHandler guarded(HttpHandler handler) {
    return exchange -> {
      try {
        handler.handle(exchange);
      } catch (IOException e) {
        LOG.debug(
            "{} {}: the connection ended before the answer ({})",
            exchange.getRequestMethod(),
            exchange.getRequestURI(),
            e.toString());
      } catch (RuntimeException e) {
        LOG.warn("{} {} failed", exchange.getRequestMethod(), exchange.getRequestURI(), e);
        try {
          respond(exchange, 500, TEXT, "internal error\n");
        } catch (IOException | RuntimeException ignored) {
          // the response had started, or the client is gone: nothing more to say
        }
      } finally {
        exchange.close();
      }
    };
  }

  private static void metrics(HttpExchange exchange, PrometheusMeterRegistry registry)
      throws IOException {
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

  private static void probe(
      HttpExchange exchange, Health health, java.util.function.Predicate<Health> passes)
      throws IOException {
    if (!exact(exchange, exchange.getHttpContext().getPath()) || !readOnly(exchange)) {
      return;
    }
    if (passes.test(health)) {
      respond(exchange, 200, TEXT, "ok\n");
    } else {
      respond(exchange, 503, TEXT, String.join("\n", health.problems()) + "\n");
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
