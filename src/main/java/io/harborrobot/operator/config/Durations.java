package io.harborrobot.operator.config;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/** Durations as people write them in flags and environment variables. */
public final class Durations {

  private Durations() {}

  /**
   * Go-style ({@code 250ms}, {@code 90s}, {@code 10m}, {@code 1h}, {@code 1d}) or ISO-8601 ({@code
   * PT10M}).
   *
   * @throws IllegalArgumentException saying what is accepted
   */
  public static Duration parse(String text) {
    String value = text.trim().toLowerCase(Locale.ROOT);
    try {
      if (value.startsWith("p")) {
        return Duration.parse(value.toUpperCase(Locale.ROOT));
      }
      if (value.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(value.substring(0, value.length() - 2)));
      }
      long amount = Long.parseLong(value.substring(0, value.length() - 1));
      switch (value.charAt(value.length() - 1)) {
        case 's':
          return Duration.ofSeconds(amount);
        case 'm':
          return Duration.ofMinutes(amount);
        case 'h':
          return Duration.ofHours(amount);
        case 'd':
          return Duration.ofDays(amount);
        default:
          break;
      }
    } catch (NumberFormatException | DateTimeParseException | StringIndexOutOfBoundsException e) {
      // reported below
    }
    throw new IllegalArgumentException(
        "'" + text + "' is not a duration (examples: 30s, 10m, 1h, PT10M)");
  }
}
