package io.harborrobot.operator.harbor;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import okhttp3.ConnectionPool;
import okhttp3.CookieJar;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds {@link OkHttpHarborClient}s. All clients share one base {@link OkHttpClient} (connection
 * pool, dispatcher) and differ only in TLS trust, so create one factory per process and {@link
 * #close()} it on shutdown.
 *
 * <p>The factory owns what the clients of one connection ({@link HarborEndpoint#connection()})
 * share: its rate limit, its concurrency cap and its login lockouts ({@link ConnectionGuard}). A
 * client re-created for the same connection shares them with older instances that are still
 * finishing calls; when the endpoint's limits change, the new ones apply to every client of the
 * connection from their next request on. Request metrics go to the {@link MeterRegistry} given here
 * ({@link Metrics#globalRegistry} by default).
 *
 * <p>TLS: verification is on by default, against the platform's trust store. With {@link
 * HarborEndpoint#caBundlePem()}, exactly the bundle's certificates are trusted (not the platform's
 * as well). Only {@link HarborEndpoint#insecureSkipTlsVerify()} turns verification off (it wins
 * over a CA bundle), and it is logged as a warning once per URL.
 */
public final class OkHttpHarborClientFactory implements HarborClientFactory, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(OkHttpHarborClientFactory.class);

  public static final Duration DEFAULT_CONNECT_TIMEOUT = ClientSettings.DEFAULT_CONNECT_TIMEOUT;
  public static final Duration DEFAULT_READ_TIMEOUT = ClientSettings.DEFAULT_READ_TIMEOUT;
  public static final Duration DEFAULT_CALL_TIMEOUT = ClientSettings.DEFAULT_CALL_TIMEOUT;

  /**
   * How long an idle connection stays pooled. Shorter than the usual idle timeouts in front of
   * Harbor (load balancers, ingress: about 60 s): without retries on connection failure, a request
   * sent on a connection the server has already closed fails instead of being resent.
   */
  static final Duration KEEP_ALIVE = Duration.ofSeconds(30);

  private static final int MAX_IDLE_CONNECTIONS = 16;

  /** Parsed CA bundles kept for reuse; a handful of connections is the normal case. */
  private static final int MAX_CACHED_BUNDLES = 32;

  private final OkHttpClient base;
  private final ObjectMapper mapper = OkHttpHarborClient.newObjectMapper();
  private final Map<String, TlsConfig> bundles =
      Collections.synchronizedMap(
          new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, TlsConfig> eldest) {
              return size() > MAX_CACHED_BUNDLES;
            }
          });
  private final Set<String> warnedInsecure = ConcurrentHashMap.newKeySet();

  private final ClientSettings settings;
  private final ClientMetrics metrics;
  private final Map<String, ConnectionGuard> guards = new ConcurrentHashMap<>();

  /** {@link ClientSettings#defaults()}, metrics to {@link Metrics#globalRegistry}. */
  public OkHttpHarborClientFactory() {
    this(ClientSettings.defaults(), Metrics.globalRegistry);
  }

  /** {@link ClientSettings#defaults()}, metrics to {@code registry}. */
  public OkHttpHarborClientFactory(MeterRegistry registry) {
    this(ClientSettings.defaults(), registry);
  }

  /**
   * The defaults with other timeouts, metrics to {@link Metrics#globalRegistry}.
   *
   * @param connectTimeout TCP connect and TLS handshake
   * @param readTimeout the longest silence while reading a response (also used for writing)
   * @param callTimeout one attempt, from DNS to the last byte of the body
   */
  public OkHttpHarborClientFactory(
      Duration connectTimeout, Duration readTimeout, Duration callTimeout) {
    this(
        ClientSettings.defaults().withTimeouts(connectTimeout, readTimeout, callTimeout),
        Metrics.globalRegistry);
  }

  public OkHttpHarborClientFactory(ClientSettings settings, MeterRegistry registry) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.metrics = new ClientMetrics(Objects.requireNonNull(registry, "registry"));
    this.base =
        new OkHttpClient.Builder()
            .connectTimeout(settings.connectTimeout())
            .readTimeout(settings.readTimeout())
            .writeTimeout(settings.readTimeout())
            .callTimeout(settings.callTimeout())
            .connectionPool(
                new ConnectionPool(MAX_IDLE_CONNECTIONS, KEEP_ALIVE.toSeconds(), TimeUnit.SECONDS))
            .cookieJar(CookieJar.NO_COOKIES)
            .retryOnConnectionFailure(false)
            .followRedirects(false)
            .followSslRedirects(false)
            .build();
  }

  public ClientSettings settings() {
    return settings;
  }

  /**
   * @throws IllegalArgumentException when the base URL is not an absolute http(s) URL without
   *     credentials, query or fragment, or when the CA bundle cannot be read
   */
  @Override
  public HarborClient create(HarborEndpoint endpoint) {
    Objects.requireNonNull(endpoint, "endpoint");
    HttpUrl baseUrl = parseBaseUrl(endpoint.baseUrl());
    OkHttpClient.Builder builder = base.newBuilder();
    TlsConfig tls = tlsFor(endpoint);
    if (tls != null) {
      tls.applyTo(builder);
    }
    return new OkHttpHarborClient(
        builder.build(), baseUrl, endpoint, mapper, guardFor(endpoint), metrics, settings);
  }

  /**
   * The limits and lockouts of the endpoint's connection, shared by all its clients; created on
   * first use, and given the endpoint's limits when they changed.
   */
  ConnectionGuard guardFor(HarborEndpoint endpoint) {
    return guards.compute(
        endpoint.connection(),
        (connection, guard) ->
            guard == null
                ? new ConnectionGuard(
                    connection,
                    endpoint.requestsPerSecond(),
                    endpoint.maxConcurrentRequests(),
                    settings)
                : guard.adjust(endpoint.requestsPerSecond(), endpoint.maxConcurrentRequests()));
  }

  /** The endpoint's TLS trust, or null for the platform default (the base client's). */
  private TlsConfig tlsFor(HarborEndpoint endpoint) {
    if (endpoint.insecureSkipTlsVerify()) {
      if (warnedInsecure.add(endpoint.baseUrl())) {
        LOG.warn(
            "TLS certificate verification is OFF for {} (insecureSkipTlsVerify)",
            endpoint.baseUrl());
      }
      return TlsConfig.INSECURE;
    }
    String pem = endpoint.caBundlePem();
    if (pem == null || pem.isBlank()) {
      return null;
    }
    return bundles.computeIfAbsent(pem, TlsConfig::trusting);
  }

  static HttpUrl parseBaseUrl(String value) {
    // The value is not repeated in messages: a URL could carry user:password@.
    HttpUrl url = HttpUrl.parse(value);
    if (url == null) {
      throw new IllegalArgumentException("the Harbor URL must be an absolute http(s) URL");
    }
    if (!url.username().isEmpty() || !url.password().isEmpty()) {
      throw new IllegalArgumentException(
          "the Harbor URL must not carry credentials; use the credentials Secret");
    }
    if (url.query() != null || url.fragment() != null) {
      throw new IllegalArgumentException("the Harbor URL must not have a query or a fragment");
    }
    return url;
  }

  /** Releases the shared connection pool and dispatcher threads. Clients stop working. */
  @Override
  public void close() {
    base.dispatcher().executorService().shutdown();
    base.connectionPool().evictAll();
  }
}
