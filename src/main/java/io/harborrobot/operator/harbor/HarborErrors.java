package io.harborrobot.operator.harbor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.harborrobot.operator.harbor.HarborException.Kind;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Date;
import java.util.Locale;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLPeerUnverifiedException;
import okhttp3.Response;

/**
 * Turns Harbor's answers and I/O failures into {@link HarborException}s (ROBOT_API.md §0 "Error
 * body"): the kind follows the HTTP status, never Harbor's {@code code}, except that a 403 {@code
 * DENIED} "read only" answer is told apart from a plain refusal.
 */
final class HarborErrors {

  /** How much of an error body is read: Harbor's are tiny; a proxy's HTML page is not. */
  static final long MAX_ERROR_BODY_BYTES = 64 * 1024;

  /** Harbor's message is kept, but not a novel. */
  static final int MAX_MESSAGE_CHARS = 1000;

  static final String MASK = "******";

  private HarborErrors() {}

  /** Harbor's {@code {"errors":[{"code","message"}]}}, first entry; both fields may be null. */
  record ErrorBody(String code, String message) {
    static final ErrorBody NONE = new ErrorBody(null, null);
  }

  /**
   * The exception for a non-success response. {@code sensitive} values (passwords, secrets sent in
   * this request) are masked should Harbor ever echo one in its message.
   */
  static HarborException fromResponse(
      Response response,
      String operation,
      String requestId,
      ObjectMapper mapper,
      Collection<String> sensitive) {
    int status = response.code();
    ErrorBody body = readErrorBody(response, mapper);
    Kind kind = kindFor(status, body.code(), body.message());
    Duration retryAfter =
        kind == Kind.RATE_LIMITED || kind == Kind.SERVER_ERROR
            ? retryAfter(response, Instant.now())
            : null;
    String message = sanitize(body.message(), sensitive);
    if (message == null && status >= 300 && status < 400) {
      // Most often http:// where Harbor wants https://; the target host (no path, no query) helps.
      String location = response.header("Location");
      message = "unexpected redirect" + (location == null ? "" : " to " + originOf(location));
    }
    return new HarborException(kind, status, operation, message, requestId, retryAfter, null);
  }

  /** The classification by status ({@code code} only separates read-only mode from a refusal). */
  static Kind kindFor(int status, String code, String message) {
    switch (status) {
      case 400, 422:
        return Kind.BAD_REQUEST;
      case 401:
        return Kind.UNAUTHORIZED;
      case 403:
        boolean readOnly =
            "DENIED".equalsIgnoreCase(code)
                && message != null
                && message.toLowerCase(Locale.ROOT).contains("read only");
        return readOnly ? Kind.READ_ONLY : Kind.FORBIDDEN;
      case 404:
        return Kind.NOT_FOUND;
      case 409:
        return Kind.CONFLICT;
      case 429:
        return Kind.RATE_LIMITED;
      default:
        return status >= 500 && status <= 599 ? Kind.SERVER_ERROR : Kind.PROTOCOL;
    }
  }

  /**
   * The exception for a call that got no (complete) response. A request that certainly never left
   * (no connection, TLS handshake refused, DNS failure) is {@link Kind#UNREACHABLE} for every
   * method. Once the request may have been written, a POST becomes {@link Kind#OUTCOME_UNKNOWN}:
   * Harbor may have created the robot, and only a lookup can tell. Other methods are idempotent
   * (or, for PATCH with a caller-chosen secret, safe to repeat), so they stay UNREACHABLE.
   */
  static HarborException fromIo(
      String method, String operation, String requestId, boolean mayHaveBeenSent, IOException e) {
    boolean neverSent = !mayHaveBeenSent || isConnectFailure(e);
    Kind kind = !neverSent && "POST".equals(method) ? Kind.OUTCOME_UNKNOWN : Kind.UNREACHABLE;
    return new HarborException(kind, 0, operation, describe(e), requestId, null, e);
  }

  /** An answer this client cannot use (wrong shape, missing fields, too large). */
  static HarborException protocol(
      String operation, int status, String requestId, String whatWasWrong) {
    return new HarborException(
        Kind.PROTOCOL, status, operation, whatWasWrong, requestId, null, null);
  }

  static boolean isConnectFailure(IOException e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof ConnectException
          || t instanceof UnknownHostException
          || t instanceof NoRouteToHostException
          || t instanceof SSLHandshakeException
          || t instanceof SSLPeerUnverifiedException) {
        return true;
      }
      if (t instanceof InterruptedIOException
          && t.getMessage() != null
          && t.getMessage().toLowerCase(Locale.ROOT).startsWith("connect timed out")) {
        return true;
      }
    }
    return false;
  }

  /** Reads at most {@link #MAX_ERROR_BODY_BYTES} of the body; anything unreadable is no body. */
  static ErrorBody readErrorBody(Response response, ObjectMapper mapper) {
    String text;
    try {
      text = response.peekBody(MAX_ERROR_BODY_BYTES).string();
    } catch (IOException | RuntimeException e) {
      return ErrorBody.NONE;
    }
    if (text.isBlank()) {
      return ErrorBody.NONE;
    }
    try {
      JsonNode root = mapper.readTree(text);
      if (root == null || !root.isObject()) {
        return ErrorBody.NONE;
      }
      JsonNode errors = root.path("errors");
      JsonNode first = errors.isArray() && !errors.isEmpty() ? errors.get(0) : root;
      return new ErrorBody(textOrNull(first.get("code")), textOrNull(first.get("message")));
    } catch (IOException | RuntimeException e) {
      // A proxy's HTML page or a truncated body: the status alone classifies it. The body is not
      // quoted, since nobody knows what it holds.
      return ErrorBody.NONE;
    }
  }

  private static String textOrNull(JsonNode node) {
    return node != null && node.isValueNode() && !node.isNull() ? node.asText() : null;
  }

  /** Where the client keeps a 503's {@code Retry-After}, out of OkHttp's sight. */
  static final String RETRY_AFTER_MOVED = "X-Harbor-Operator-Retry-After";

  /**
   * {@code Retry-After} as delta-seconds or as an HTTP date (RFC 9110 §10.2.3); null when absent or
   * unreadable. A date in the past means "now" (zero).
   */
  static Duration retryAfter(Response response, Instant now) {
    String header = response.header(RETRY_AFTER_MOVED) != null ? RETRY_AFTER_MOVED : "Retry-After";
    String value = response.header(header);
    if (value == null || value.isBlank()) {
      return null;
    }
    value = value.trim();
    if (value.matches("\\d{1,12}")) {
      return Duration.ofSeconds(Long.parseLong(value));
    }
    Date date = response.headers().getDate(header);
    if (date == null) {
      return null;
    }
    Duration delay = Duration.between(now, date.toInstant());
    return delay.isNegative() ? Duration.ZERO : delay;
  }

  /** Masks sensitive values, flattens line breaks (log injection) and bounds the length. */
  static String sanitize(String message, Collection<String> sensitive) {
    if (message == null) {
      return null;
    }
    String result = message;
    for (String value : sensitive) {
      if (value != null && !value.isEmpty()) {
        result = result.replace(value, MASK);
      }
    }
    result = result.replaceAll("[\\r\\n\\t]+", " ").strip();
    if (result.length() > MAX_MESSAGE_CHARS) {
      result = result.substring(0, MAX_MESSAGE_CHARS) + "...";
    }
    return result.isEmpty() ? null : result;
  }

  private static String describe(IOException e) {
    String message = e.getMessage();
    String type = e.getClass().getSimpleName();
    return message == null || message.isBlank()
        ? type
        : type + ": " + message.replaceAll("[\\r\\n\\t]+", " ");
  }

  private static String originOf(String location) {
    okhttp3.HttpUrl url = okhttp3.HttpUrl.parse(location);
    if (url == null) {
      return "a relative location";
    }
    return url.scheme() + "://" + url.host() + ":" + url.port();
  }
}
