package io.harborrobot.operator.harbor;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Objects;

/**
 * A robot secret or password. It serialises to its value in JSON request bodies (the only place it
 * must appear) and prints as a mask everywhere else, so it cannot leak through a log line,
 * exception message or toString by accident.
 */
public final class RobotSecret {

  private static final String LOWER = "abcdefghijklmnopqrstuvwxyz";
  private static final String UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  private static final String DIGITS = "0123456789";
  private static final String ALPHABET = LOWER + UPPER + DIGITS;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String value;

  private RobotSecret(String value) {
    this.value = Objects.requireNonNull(value, "value");
  }

  @JsonCreator
  public static RobotSecret of(String value) {
    return new RobotSecret(value);
  }

  /**
   * A new random secret of 32 characters from [a-zA-Z0-9] with at least one lower-case letter, one
   * upper-case letter and one digit, the rule Harbor applies to secrets set through PATCH.
   */
  public static RobotSecret generate() {
    while (true) {
      StringBuilder sb = new StringBuilder(32);
      for (int i = 0; i < 32; i++) {
        sb.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
      }
      RobotSecret candidate = new RobotSecret(sb.toString());
      if (candidate.meetsHarborComplexity()) {
        return candidate;
      }
    }
  }

  /** Harbor's rule for a caller-chosen secret: 8-128 characters, a lower, an upper, a digit. */
  public boolean meetsHarborComplexity() {
    return value.length() >= 8
        && value.length() <= 128
        && value.chars().anyMatch(c -> c >= 'a' && c <= 'z')
        && value.chars().anyMatch(c -> c >= 'A' && c <= 'Z')
        && value.chars().anyMatch(c -> c >= '0' && c <= '9');
  }

  /** The plain value: only for request bodies, Authorization headers and the Kubernetes Secret. */
  @JsonValue
  public String reveal() {
    return value;
  }

  public boolean isEmpty() {
    return value.isEmpty();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RobotSecret other
        && MessageDigest.isEqual(
            value.getBytes(StandardCharsets.UTF_8), other.value.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public int hashCode() {
    return value.hashCode();
  }

  @Override
  public String toString() {
    return "******";
  }
}
