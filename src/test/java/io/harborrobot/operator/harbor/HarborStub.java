package io.harborrobot.operator.harbor;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.harborrobot.operator.harbor.contract.HarborContract;
import io.harborrobot.operator.sandbox.RecordedExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import javax.net.ssl.SSLContext;

/**
 * A scripted HTTP(S) server for what the Harbor emulator cannot produce: exact headers, odd
 * statuses, garbage bodies, TLS. Records every request it receives.
 */
final class HarborStub implements AutoCloseable {

  /** A received request; header names are as the JDK server normalises them. */
  record Received(
      String method, String path, String rawQuery, Map<String, List<String>> headers, String body) {

    String header(String name) {
      for (Map.Entry<String, List<String>> e : headers.entrySet()) {
        if (e.getKey().equalsIgnoreCase(name) && !e.getValue().isEmpty()) {
          return e.getValue().get(0);
        }
      }
      return null;
    }

    boolean hasHeader(String name) {
      return headers.keySet().stream().anyMatch(k -> k.equalsIgnoreCase(name));
    }
  }

  /** What to answer. */
  record Answer(int status, Map<String, String> headers, String body) {

    static Answer json(int status, String body) {
      return new Answer(status, Map.of("Content-Type", "application/json"), body);
    }

    static Answer harborError(int status, String code, String message) {
      return json(
          status, "{\"errors\":[{\"code\":\"" + code + "\",\"message\":\"" + message + "\"}]}");
    }

    Answer with(String name, String value) {
      Map<String, String> copy = new LinkedHashMap<>(headers);
      copy.put(name, value);
      return new Answer(status, copy, body);
    }
  }

  private final HttpServer server;
  private final ExecutorService executor = Executors.newCachedThreadPool();
  private final String scheme;
  final List<Received> requests = new CopyOnWriteArrayList<>();
  private final List<HarborContract.Violation> requestViolations = new CopyOnWriteArrayList<>();
  private volatile Function<Received, Answer> responder = r -> Answer.json(200, "{}");

  private HarborStub(HttpServer server, String scheme) {
    this.server = server;
    this.scheme = scheme;
    server.createContext("/", this::handle);
    server.setExecutor(executor);
    server.start();
  }

  static HarborStub http() throws IOException {
    return new HarborStub(HttpServer.create(loopback(), 0), "http");
  }

  static HarborStub https(SSLContext context) throws IOException {
    HttpsServer server = HttpsServer.create(loopback(), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(context));
    return new HarborStub(server, "https");
  }

  private static InetSocketAddress loopback() {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
  }

  HarborStub respond(Function<Received, Answer> responder) {
    this.responder = responder;
    return this;
  }

  String url() {
    return scheme + "://127.0.0.1:" + server.getAddress().getPort();
  }

  int port() {
    return server.getAddress().getPort();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      byte[] requestBody;
      try (InputStream in = exchange.getRequestBody()) {
        requestBody = in.readAllBytes();
      }
      Received received =
          new Received(
              exchange.getRequestMethod(),
              exchange.getRequestURI().getRawPath(),
              exchange.getRequestURI().getRawQuery(),
              Map.copyOf(exchange.getRequestHeaders()),
              new String(requestBody, StandardCharsets.UTF_8));
      requests.add(received);
      // What the client sends must match Harbor's swagger, whatever the stub answers.
      HarborContract.check(
              new RecordedExchange(
                  Instant.now(),
                  received.method(),
                  received.path(),
                  received.rawQuery(),
                  received.headers(),
                  requestBody,
                  RecordedExchange.NO_RESPONSE,
                  Map.of(),
                  null,
                  false))
          .stream()
          .filter(v -> v.side() == HarborContract.Side.REQUEST)
          .forEach(requestViolations::add);
      Answer answer = responder.apply(received);
      answer.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
      byte[] body =
          answer.body() == null ? new byte[0] : answer.body().getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(answer.status(), body.length == 0 ? -1 : body.length);
      if (body.length > 0) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(body);
        }
      }
    }
  }

  /** Stops the stub; fails when the client sent a request that breaks Harbor's swagger. */
  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
    if (!requestViolations.isEmpty()) {
      throw new AssertionError("requests that break Harbor's swagger: " + requestViolations);
    }
  }
}
