package io.harborrobot.operator.validation;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Helpers for JSON-like values: {@code Map<String, Object>}, {@code List<Object>}, {@code Long},
 * {@code Double}, {@code String}, {@code Boolean} and {@code null}, as Jackson reads a manifest.
 */
final class Values {

  private Values() {}

  /** A map view of a value that is a JSON object; an empty map for null. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> asMap(Object value) {
    return value == null ? Map.of() : (Map<String, Object>) value;
  }

  /** A list view of a value that is a JSON array; an empty list for null. */
  static List<?> asList(Object value) {
    return value == null ? List.of() : (List<?>) value;
  }

  /**
   * A deep, mutable copy. Numbers are normalised to what Jackson with {@code USE_LONG_FOR_INTS}
   * gives and CEL expects: integral types become {@code Long} (or stay {@code BigInteger} when too
   * large), floating point types {@code Double}; a {@code Double} without a fraction (in a long's
   * range) becomes a {@code Long}, as kubectl's YAML-to-JSON conversion sends {@code 90.0} as
   * {@code 90}. Map keys become strings.
   */
  static Object copy(Object value) {
    if (value instanceof Map<?, ?> map) {
      Map<String, Object> result = new LinkedHashMap<>();
      map.forEach((k, v) -> result.put(String.valueOf(k), copy(v)));
      return result;
    }
    if (value instanceof List<?> list) {
      List<Object> result = new ArrayList<>(list.size());
      list.forEach(v -> result.add(copy(v)));
      return result;
    }
    if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
      return ((Number) value).longValue();
    }
    if (value instanceof BigInteger big && big.bitLength() < 64) {
      return big.longValue();
    }
    if (value instanceof Float || value instanceof BigDecimal || value instanceof Double) {
      double d = ((Number) value).doubleValue();
      return !Double.isInfinite(d) && d == Math.rint(d) && Math.abs(d) < 0x1p63
          ? (Object) (long) d
          : d;
    }
    return value;
  }

  /** A deep copy of a JSON object. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> copyMap(Map<String, Object> map) {
    return (Map<String, Object>) copy(map);
  }

  static boolean isInteger(Object value) {
    return value instanceof Long || value instanceof BigInteger;
  }

  /**
   * The JSON type of a value as kube-openapi names it: integer, number, string, boolean, array,
   * object, or null.
   */
  static String jsonType(Object value) {
    if (value == null) {
      return "null";
    }
    if (isInteger(value)) {
      return "integer";
    }
    if (value instanceof Number) {
      return "number";
    }
    if (value instanceof String) {
      return "string";
    }
    if (value instanceof Boolean) {
      return "boolean";
    }
    if (value instanceof List<?>) {
      return "array";
    }
    if (value instanceof Map<?, ?>) {
      return "object";
    }
    return value.getClass().getSimpleName();
  }

  /** JSON equality: numbers compare by value (1 equals 1.0), containers deeply. */
  static boolean jsonEquals(Object a, Object b) {
    if (a instanceof Number x && b instanceof Number y) {
      return new BigDecimal(x.toString()).compareTo(new BigDecimal(y.toString())) == 0;
    }
    if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
      if (x.size() != y.size()) {
        return false;
      }
      for (Map.Entry<?, ?> e : x.entrySet()) {
        if (!y.containsKey(e.getKey()) || !jsonEquals(e.getValue(), y.get(e.getKey()))) {
          return false;
        }
      }
      return true;
    }
    if (a instanceof List<?> x && b instanceof List<?> y) {
      if (x.size() != y.size()) {
        return false;
      }
      for (int i = 0; i < x.size(); i++) {
        if (!jsonEquals(x.get(i), y.get(i))) {
          return false;
        }
      }
      return true;
    }
    return Objects.equals(a, b);
  }
}
