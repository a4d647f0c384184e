package io.harborrobot.operator.harbor;

import java.time.Duration;
import java.util.Optional;

/**
 * A failed Harbor call, classified so callers branch on {@link #kind()} rather than on status
 * codes. The message names the method, route, status and Harbor's own message; it never holds a
 * request body, a header or a secret.
 */
public class HarborException extends RuntimeException {

  /** What went wrong, from the caller's point of view. */
  public enum Kind {
    /** 400 or 422: Harbor refused the request as invalid; {@link #harborMessage()} says why. */
    BAD_REQUEST(false),
    /** 401: the credentials were refused. */
    UNAUTHORIZED(false),
    /** 403 FORBIDDEN: authenticated but not allowed. */
    FORBIDDEN(false),
    /** 403 DENIED "read only mode": Harbor refuses every change for now. */
    READ_ONLY(true),
    /** 404. */
    NOT_FOUND(false),
    /** 409. */
    CONFLICT(false),
    /**
     * 429: back off for {@link #retryAfter()} when given. With status 0, the request was never
     * sent: the connection's own rate limit or concurrency cap kept it queued longer than the
     * client may wait ({@link ClientSettings#maxQueueWait()}); {@link #retryAfter()} suggests when
     * to try again.
     */
    RATE_LIMITED(true),
    /** 5xx: Harbor failed; the request may or may not have been applied (see POST). */
    SERVER_ERROR(true),
    /** No response: connection refused, reset, TLS failure or timeout. */
    UNREACHABLE(true),
    /**
     * A non-idempotent request (POST) was sent but no usable response came back: it may have been
     * applied. Resolve by looking the object up, never by sending it again blindly.
     */
    OUTCOME_UNKNOWN(true),
    /** Harbor answered something this client cannot understand. */
    PROTOCOL(false);

    private final boolean transientFault;

    Kind(boolean transientFault) {
      this.transientFault = transientFault;
    }

    /** Whether waiting and trying again may succeed without any change on our side. */
    public boolean isTransient() {
      return transientFault;
    }
  }

  private final Kind kind;
  private final String operation;
  private final int httpStatus;
  private final String harborMessage;
  private final String requestId;
  private final Duration retryAfter;

  public HarborException(
      Kind kind,
      int httpStatus,
      String operation,
      String harborMessage,
      String requestId,
      Duration retryAfter,
      Throwable cause) {
    super(describe(kind, httpStatus, operation, harborMessage, requestId), cause);
    this.kind = kind;
    this.operation = operation;
    this.httpStatus = httpStatus;
    this.harborMessage = harborMessage;
    this.requestId = requestId;
    this.retryAfter = retryAfter;
  }

  private static String describe(
      Kind kind, int httpStatus, String operation, String harborMessage, String requestId) {
    StringBuilder sb = new StringBuilder(operation);
    if (httpStatus > 0) {
      sb.append(" returned ").append(httpStatus);
    } else {
      sb.append(" failed");
    }
    sb.append(" (").append(kind).append(')');
    if (harborMessage != null && !harborMessage.isBlank()) {
      sb.append(": ").append(harborMessage);
    }
    if (requestId != null) {
      sb.append(" [request id ").append(requestId).append(']');
    }
    return sb.toString();
  }

  public Kind kind() {
    return kind;
  }

  /**
   * The message without the request id: the same for every repetition of the same failure, so it
   * can go into a condition without a new Event and status write at every retry.
   */
  public String summary() {
    return describe(kind, httpStatus, operation, harborMessage, null);
  }

  /** The HTTP status, or 0 when no response was received. */
  public int httpStatus() {
    return httpStatus;
  }

  /**
   * Harbor's own error message (first entry of {@code errors}), when there was one. When Harbor
   * gave none (no response, or an answer the client could not use), what the client observed
   * instead, e.g. {@code "ConnectException: Failed to connect to ..."}; {@code null} when there is
   * nothing to say (an error status with an empty or non-JSON body).
   */
  public String harborMessage() {
    return harborMessage;
  }

  public String requestId() {
    return requestId;
  }

  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }
}
