package io.harborrobot.operator.reconciler;

import io.harborrobot.operator.harbor.HarborException;

/**
 * Why a HarborRobot cannot reach its desired state, as a condition reason and a message a person
 * can act on. {@code retryable} problems may clear by themselves (Harbor down); the others wait for
 * a change to the spec, the connection or Harbor, picked up by events or the periodic resync.
 */
public class ReconcileProblem extends RuntimeException {

  private final String reason;
  private final boolean retryable;

  public ReconcileProblem(String reason, String message, boolean retryable) {
    this(reason, message, retryable, null);
  }

  public ReconcileProblem(String reason, String message, boolean retryable, Throwable cause) {
    super(message, cause);
    this.reason = reason;
    this.retryable = retryable;
  }

  public String reason() {
    return reason;
  }

  public boolean retryable() {
    return retryable;
  }

  /** For logs: the message with what the cause adds (e.g. Harbor's request id). */
  public String detail() {
    return getCause() instanceof HarborException h ? h.getMessage() : getMessage();
  }

  /** Maps a Harbor failure to a condition reason. */
  public static ReconcileProblem fromHarbor(HarborException e) {
    String reason =
        switch (e.kind()) {
          case UNAUTHORIZED -> Reasons.UNAUTHORIZED;
          case FORBIDDEN -> Reasons.FORBIDDEN;
          case READ_ONLY -> Reasons.HARBOR_READ_ONLY;
          case RATE_LIMITED -> Reasons.RATE_LIMITED;
          case UNREACHABLE, OUTCOME_UNKNOWN -> Reasons.HARBOR_UNREACHABLE;
          case BAD_REQUEST, CONFLICT -> Reasons.HARBOR_REJECTED;
          case NOT_FOUND, SERVER_ERROR, PROTOCOL -> Reasons.HARBOR_ERROR;
        };
    // Unauthorized is retried too: credentials are often fixed in the Secret without touching
    // the HarborRobot, and Harbor's 1.5 s lockout is far shorter than the backoff.
    boolean retryable = e.kind().isTransient() || e.kind() == HarborException.Kind.UNAUTHORIZED;
    return new ReconcileProblem(reason, e.summary(), retryable, e);
  }
}
