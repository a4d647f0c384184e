package io.harborrobot.operator.sandbox;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One HTTP exchange served by the {@link HarborEmulator}, as it went over the wire, for an {@link
 * ExchangeObserver}. The bodies may hold robot secrets and the headers the caller's password: never
 * log them.
 *
 * @param receivedAt when the request arrived (system clock, not the emulator's settable clock)
 * @param method the request method, upper case
 * @param rawPath the path as sent, still URL-encoded
 * @param rawQuery the query as sent, still URL-encoded; {@code null} when there was none
 * @param requestHeaders the request headers, names matched case-insensitively
 * @param requestBody the request body, empty when none (do not modify)
 * @param status the response status, or {@link #NO_RESPONSE} when the connection was closed without
 *     any response
 * @param responseHeaders the headers the emulator set (not {@code Date} or {@code Content-length},
 *     which the HTTP server adds), names matched case-insensitively; empty without a response
 * @param responseBody the response body, empty when none (do not modify)
 * @param injected whether fault injection decided the outcome rather than Harbor's behaviour: a
 *     status from {@link HarborEmulator#failNext} or {@link HarborEmulator#setErrorRate} (request
 *     not applied), or a response lost by {@link HarborEmulator#loseResponseNext} or {@link
 *     HarborEmulator#setLostResponseRate} (request applied)
 */
public record RecordedExchange(
    Instant receivedAt,
    String method,
    String rawPath,
    String rawQuery,
    Map<String, List<String>> requestHeaders,
    byte[] requestBody,
    int status,
    Map<String, List<String>> responseHeaders,
    byte[] responseBody,
    boolean injected) {

  /** {@link #status} of an exchange whose connection was closed without a response. */
  public static final int NO_RESPONSE = 0;

  public RecordedExchange {
    Objects.requireNonNull(receivedAt, "receivedAt");
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(rawPath, "rawPath");
    requestHeaders = caseInsensitive(requestHeaders);
    requestBody = requestBody == null ? new byte[0] : requestBody;
    responseHeaders = caseInsensitive(responseHeaders);
    responseBody = responseBody == null ? new byte[0] : responseBody;
  }

  /** Whether a response was sent (false for a lost response). */
  public boolean responded() {
    return status != NO_RESPONSE;
  }

  /** The first value of a request header, or {@code null}. */
  public String requestHeader(String name) {
    List<String> values = requestHeaders.get(name);
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  /** The first value of a response header, or {@code null}. */
  public String responseHeader(String name) {
    List<String> values = responseHeaders.get(name);
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  /** The request body as UTF-8 text. */
  public String requestBodyText() {
    return new String(requestBody, StandardCharsets.UTF_8);
  }

  /** The response body as UTF-8 text. */
  public String responseBodyText() {
    return new String(responseBody, StandardCharsets.UTF_8);
  }

  /** {@code "METHOD path?query -> status"}, without headers or bodies (safe to log). */
  @Override
  public String toString() {
    return method
        + " "
        + rawPath
        + (rawQuery == null ? "" : "?" + rawQuery)
        + " -> "
        + (responded() ? Integer.toString(status) : "no response")
        + (injected ? " (injected)" : "");
  }

  private static Map<String, List<String>> caseInsensitive(Map<String, List<String>> headers) {
    TreeMap<String, List<String>> copy = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    if (headers != null) {
      headers.forEach((k, v) -> copy.merge(k, List.copyOf(v), (a, b) -> concat(a, b)));
    }
    return Collections.unmodifiableMap(copy);
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new java.util.ArrayList<>(a);
    all.addAll(b);
    return List.copyOf(all);
  }
}
