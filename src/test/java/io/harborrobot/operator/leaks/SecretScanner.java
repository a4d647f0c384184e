package io.harborrobot.operator.leaks;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.BitSet;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Finds known secrets in text: each secret as is, and inside base64 (an {@code Authorization:
 * Basic} header or a {@code .dockerconfigjson} {@code auth} entry carries it that way). A leak is
 * reported by where it was and an excerpt in which every secret is masked, never by the secret.
 *
 * <p>A test class logs thousands of lines and the suite issues thousands of secrets, so instead of
 * {@code line.contains(secret)} for every pair, a rolling hash of every window of {@value
 * #MIN_LENGTH} characters is looked up among the hashes of the secrets' first windows.
 */
final class SecretScanner {

  /** Shorter values would match ordinary words; Harbor accepts no shorter robot secret. */
  static final int MIN_LENGTH = 8;

  private static final int BLOOM_BITS = 1 << 20;
  private static final int BASE = 31;
  private static final int BASE_POW = pow(BASE, MIN_LENGTH - 1);

  /** One string to look for, what it is, e.g. "robot secret in base64", and its mask. */
  private record Needle(String text, String kind, boolean base64) {
    String label() {
      return "<" + kind.toUpperCase(Locale.ROOT) + ">";
    }
  }

  /** Where a needle was found. */
  private record Match(Needle needle, int at) {}

  /** A secret found in {@code where}; {@code excerpt} has every secret masked. */
  record Leak(String where, String kind, String excerpt) {
    @Override
    public String toString() {
      return kind + " in " + where + ": " + excerpt;
    }
  }

  private final Map<Integer, List<Needle>> byWindowHash = new HashMap<>();
  private final BitSet bloom = new BitSet(BLOOM_BITS);
  private int count;

  /**
   * Looks for every robot secret and admin password of at least {@value #MIN_LENGTH} characters.
   */
  SecretScanner(Collection<String> robotSecrets, Collection<String> adminPasswords) {
    robotSecrets.forEach(s -> add(s, "robot secret"));
    adminPasswords.forEach(s -> add(s, "admin password"));
  }

  /** The first secret in {@code text}, if any, as a leak at {@code where}. */
  Optional<Leak> scan(String where, String text) {
    Match found = first(text);
    return found == null
        ? Optional.empty()
        : Optional.of(new Leak(where, found.needle().kind(), excerpt(text)));
  }

  private void add(String secret, String kind) {
    if (secret == null || secret.length() < MIN_LENGTH) {
      return;
    }
    addNeedle(new Needle(secret, kind, false));
    // base64 at each of the three byte alignments, keeping only the characters that depend on the
    // secret alone (whole 3-byte groups), so it is found whatever surrounds it (e.g. "user:").
    byte[] bytes = secret.getBytes(StandardCharsets.UTF_8);
    for (int pad = 0; pad < 3; pad++) {
      byte[] padded = new byte[pad + bytes.length];
      System.arraycopy(bytes, 0, padded, pad, bytes.length);
      String encoded = Base64.getEncoder().encodeToString(padded);
      int from = pad == 0 ? 0 : 4;
      int to = 4 * (padded.length / 3);
      if (to - from >= MIN_LENGTH) {
        addNeedle(new Needle(encoded.substring(from, to), kind + " in base64", true));
      }
    }
  }

  private void addNeedle(Needle needle) {
    int hash = hash(needle.text(), 0);
    bloom.set(hash & (BLOOM_BITS - 1));
    byWindowHash.computeIfAbsent(hash, h -> new ArrayList<>()).add(needle);
    count++;
  }

  private Match first(String text) {
    if (text == null || text.length() < MIN_LENGTH || count == 0) {
      return null;
    }
    int hash = hash(text, 0);
    for (int i = 0; ; i++) {
      if (bloom.get(hash & (BLOOM_BITS - 1))) {
        List<Needle> candidates = byWindowHash.get(hash);
        if (candidates != null) {
          for (Needle n : candidates) {
            if (text.startsWith(n.text(), i)) {
              return new Match(n, i);
            }
          }
        }
      }
      if (i + MIN_LENGTH >= text.length()) {
        return null;
      }
      hash = (hash - text.charAt(i) * BASE_POW) * BASE + text.charAt(i + MIN_LENGTH);
    }
  }

  /** Every secret masked (then at most 200 characters, around the first one). */
  private String excerpt(String text) {
    String masked = text;
    int rounds = 0;
    for (Match m = first(masked); m != null; m = first(masked)) {
      if (++rounds > 1000) { // a label that contains a secret: show nothing rather than loop
        return "(excerpt withheld)";
      }
      int from = m.at();
      int to = from + m.needle().text().length();
      if (m.needle().base64()) {
        // the characters next to the fragment encode the secret's first and last bytes too
        while (from > 0 && isBase64(masked.charAt(from - 1))) {
          from--;
        }
        while (to < masked.length() && isBase64(masked.charAt(to))) {
          to++;
        }
      }
      masked = masked.substring(0, from) + m.needle().label() + masked.substring(to);
    }
    masked = masked.replaceAll("\\s+", " ");
    int at = masked.indexOf("<ROBOT SECRET");
    if (at < 0) {
      at = masked.indexOf("<ADMIN PASSWORD");
    }
    int from = at < 150 ? 0 : at - 100;
    int to = Math.min(masked.length(), from + 200);
    return (from > 0 ? "..." : "")
        + masked.substring(from, to)
        + (to < masked.length() ? "..." : "");
  }

  private static boolean isBase64(char c) {
    return (c >= 'A' && c <= 'Z')
        || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9')
        || c == '+'
        || c == '/'
        || c == '=';
  }

  private static int hash(String s, int from) {
    int h = 0;
    for (int i = from; i < from + MIN_LENGTH; i++) {
      h = h * BASE + s.charAt(i);
    }
    return h;
  }

  private static int pow(int base, int exponent) {
    int p = 1;
    for (int i = 0; i < exponent; i++) {
      p *= base;
    }
    return p;
  }
}
