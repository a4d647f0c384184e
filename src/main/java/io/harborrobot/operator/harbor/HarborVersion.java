package io.harborrobot.operator.harbor;

import java.util.Comparator;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Harbor release as {@code /api/v2.0/systeminfo} reports it, e.g. {@code v2.15.2-a1b2c3d4}.
 *
 * @param major major version
 * @param minor minor version
 * @param patch patch version
 */
public record HarborVersion(int major, int minor, int patch) implements Comparable<HarborVersion> {

  /** The first release with the robot v2 API (/api/v2.0/robots, secrets set through PATCH). */
  public static final HarborVersion MINIMUM = new HarborVersion(2, 2, 0);

  /** The first release where duration 0 is refused and PUT keeps an omitted duration. */
  public static final HarborVersion RECOMMENDED = new HarborVersion(2, 11, 0);

  private static final Pattern VERSION = Pattern.compile("^v?(\\d+)\\.(\\d+)(?:\\.(\\d+))?");
  private static final Comparator<HarborVersion> ORDER =
      Comparator.comparingInt(HarborVersion::major)
          .thenComparingInt(HarborVersion::minor)
          .thenComparingInt(HarborVersion::patch);

  /** Reads {@code v2.15.2-a1b2c3d4}, {@code v2.9.1}, {@code 2.10}; empty when unreadable. */
  public static Optional<HarborVersion> parse(String text) {
    if (text == null) {
      return Optional.empty();
    }
    Matcher m = VERSION.matcher(text.trim());
    if (!m.find()) {
      return Optional.empty();
    }
    return Optional.of(
        new HarborVersion(
            Integer.parseInt(m.group(1)),
            Integer.parseInt(m.group(2)),
            m.group(3) == null ? 0 : Integer.parseInt(m.group(3))));
  }

  public boolean isBefore(HarborVersion other) {
    return compareTo(other) < 0;
  }

  @Override
  public int compareTo(HarborVersion other) {
    return ORDER.compare(this, other);
  }

  @Override
  public String toString() {
    return "v" + major + "." + minor + "." + patch;
  }
}
