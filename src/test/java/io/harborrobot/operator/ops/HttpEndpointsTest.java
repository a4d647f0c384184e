package io.harborrobot.operator.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The HTTP port on its own: robust against clients that stall and handlers that fail. */
class HttpEndpointsTest {

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final AtomicReference<Supplier<Health>> health =
      new AtomicReference<>(() -> new Health(true, true, List.of()));
  private final List<Socket> stalled = new ArrayList<>();
  private HttpEndpoints endpoints;

  @AfterEach
  void stop() throws Exception {
    for (Socket socket : stalled) {
      socket.close();
    }
    endpoints.close();
  }

  private HttpResponse<String> get(String path) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoints.port() + path))
            .timeout(Duration.ofSeconds(2))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void clientsThatConnectAndStallDoNotHoldUpTheProbes() throws Exception {
    endpoints = HttpEndpoints.start(0, OperatorMetrics.newRegistry(), () -> health.get().get());
    for (int i = 0; i < 20; i++) {
      Socket socket = new Socket();
      socket.connect(new InetSocketAddress("127.0.0.1", endpoints.port()));
      OutputStream out = socket.getOutputStream();
      out.write("GET /metrics HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      stalled.add(socket);
    }

    assertThat(get("/healthz").statusCode()).isEqualTo(200);
    assertThat(get("/readyz").statusCode()).isEqualTo(200);
  }

  @Test
  void aFailingHandlerAnswers500() throws Exception {
    endpoints = HttpEndpoints.start(0, OperatorMetrics.newRegistry(), () -> health.get().get());
    health.set(
        () -> {
          throw new IllegalStateException("runtime info unavailable");
        });

    HttpResponse<String> response = get("/readyz");

    assertThat(response.statusCode()).isEqualTo(500);
    assertThat(response.body()).isEqualTo("internal error\n");
    health.set(() -> new Health(true, false, List.of("harborrobot/credential-secrets")));
    HttpResponse<String> notReady = get("/readyz");
    assertThat(notReady.statusCode()).isEqualTo(503);
    assertThat(notReady.body()).isEqualTo("harborrobot/credential-secrets\n");
    assertThat(get("/healthz").statusCode()).isEqualTo(200);
  }

  @Test
  void headAnswersWithoutABody() throws Exception {
    endpoints = HttpEndpoints.start(0, OperatorMetrics.newRegistry(), () -> health.get().get());

    HttpResponse<String> head =
        HTTP.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoints.port() + "/healthz"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody())
                .timeout(Duration.ofSeconds(2))
                .build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.body()).isEmpty();
  }
}
