package io.harborrobot.operator.ops;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The samples of a Prometheus text-format scrape, by series: {@code name{a="1",b="2"}}. */
record PrometheusText(Map<String, Double> samples) {

  private static final Pattern SAMPLE =
      Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{.*\\})?\\s+(\\S+)(\\s+\\d+)?$");

  static PrometheusText parse(String text) {
    Map<String, Double> samples = new LinkedHashMap<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      Matcher m = SAMPLE.matcher(line);
      if (!m.matches()) {
        throw new IllegalArgumentException("not a Prometheus sample line: " + line);
      }
      String labels = m.group(2) == null ? "" : m.group(2);
      samples.put(m.group(1) + labels, Double.parseDouble(m.group(3)));
    }
    return new PrometheusText(samples);
  }

  /** Whether any series of metric {@code name} carries every one of {@code labels}. */
  boolean has(String name, String... labels) {
    return find(name, labels).isPresent();
  }

  /** The value of the first series of {@code name} that carries every one of {@code labels}. */
  Optional<Double> find(String name, String... labels) {
    return samples.entrySet().stream()
        .filter(e -> e.getKey().equals(name) || e.getKey().startsWith(name + "{"))
        .filter(e -> containsAll(e.getKey(), labels))
        .map(Map.Entry::getValue)
        .findFirst();
  }

  /** The sum over every series of {@code name} that carries every one of {@code labels}. */
  double sum(String name, String... labels) {
    return samples.entrySet().stream()
        .filter(e -> e.getKey().equals(name) || e.getKey().startsWith(name + "{"))
        .filter(e -> containsAll(e.getKey(), labels))
        .mapToDouble(Map.Entry::getValue)
        .sum();
  }

  private static boolean containsAll(String series, String... labels) {
    for (String label : labels) {
      if (!series.contains(label)) {
        return false;
      }
    }
    return true;
  }
}
