package io.harborrobot.operator.reconciler;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * When each Secret's credential was last checked against Harbor's registry, and with what result. A
 * check is due after every change of the credential (another robot id, password or login name) and
 * otherwise once per {@code period}. Kept in memory: after a restart every credential is checked
 * once more, which is what a restart should do anyway.
 */
public final class CredentialChecks {

  /** A check of one credential: which one (robot id, fingerprint, login name), when, and result. */
  record Check(String credential, Instant at, boolean accepted) {}

  private final Duration period;
  private final Map<String, Check> byResource = new ConcurrentHashMap<>();

  public CredentialChecks(Duration period) {
    this.period = period;
  }

  public Duration period() {
    return period;
  }

  /**
   * How early a scheduled check may be made: a twentieth of the period. Checks ride on resyncs,
   * which come one period apart; a check made late in one reconcile is otherwise not yet due, by a
   * few milliseconds, in the reconcile one period later, and waits a whole period more (the bench
   * saw 14 to 19 % of checks skipped that way when the two periods were equal).
   */
  Duration tolerance() {
    return period.dividedBy(20);
  }

  /** Whether the credential of resource {@code uid} should be checked at {@code now}. */
  boolean due(String uid, String credential, Instant now) {
    Check last = byResource.get(uid);
    return last == null
        || !last.credential().equals(credential)
        || !last.accepted()
        || !now.plus(tolerance()).isBefore(last.at().plus(period));
  }

  /** The last check of exactly this credential, if any. */
  Optional<Check> last(String uid, String credential) {
    return Optional.ofNullable(byResource.get(uid)).filter(c -> c.credential().equals(credential));
  }

  void record(String uid, String credential, Instant at, boolean accepted) {
    byResource.put(uid, new Check(credential, at, accepted));
  }

  /** When the credential of {@code uid} is next due, if it was checked and accepted. */
  Optional<Instant> nextDue(String uid) {
    return Optional.ofNullable(byResource.get(uid))
        .filter(Check::accepted)
        .map(c -> c.at().plus(period));
  }

  void forget(String uid) {
    byResource.remove(uid);
  }
}
