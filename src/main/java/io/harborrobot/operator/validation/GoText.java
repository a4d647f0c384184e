package io.harborrobot.operator.validation;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Go's text formatting of values, as the API server's messages use it: {@code %q} for strings,
 * {@code %v} for numbers and booleans, {@code %#v} for structured values.
 */
final class GoText {

  private GoText() {}

  /** Go's {@code strconv.Quote}: a double-quoted string with Go escapes. */
  static String quote(String s) {
    StringBuilder out = new StringBuilder(s.length() + 2).append('"');
    s.codePoints()
        .forEach(
            c -> {
              switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case 0x07 -> out.append("\\a");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case 0x0b -> out.append("\\v");
                default -> {
                  if (c < 0x20 || c == 0x7f) {
                    out.append(String.format("\\x%02x", c));
                  } else if (!printable(c)) {
                    out.append(
                        c > 0xffff ? String.format("\\U%08x", c) : String.format("\\u%04x", c));
                  } else {
                    out.appendCodePoint(c);
                  }
                }
              }
            });
    return out.append('"').toString();
  }

  private static boolean printable(int c) {
    int type = Character.getType(c);
    return Character.isDefined(c)
        && !Character.isISOControl(c)
        && type != Character.FORMAT
        && type != Character.SURROGATE
        && type != Character.PRIVATE_USE
        && type != Character.LINE_SEPARATOR
        && type != Character.PARAGRAPH_SEPARATOR
        && (type != Character.SPACE_SEPARATOR || c == ' ');
  }

  /**
   * Go's {@code %v} of a float64: the shortest decimal that reads back as the same number, in
   * exponent form ({@code 1e+21}, {@code 1e-05}) when the exponent is below -4 or at least 21.
   */
  static String formatFloat(double d) {
    if (Double.isNaN(d)) {
      return "NaN";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? "+Inf" : "-Inf";
    }
    if (d == 0) {
      return 1 / d < 0 ? "-0" : "0";
    }
    BigDecimal value = new BigDecimal(Double.toString(d)).stripTrailingZeros();
    int exponent = value.precision() - value.scale() - 1;
    if (exponent >= -4 && exponent < 21) {
      return value.toPlainString();
    }
    String digits = value.unscaledValue().abs().toString();
    String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
    return (d < 0 ? "-" : "")
        + mantissa
        + "e"
        + (exponent < 0 ? "-" : "+")
        + String.format("%02d", Math.abs(exponent));
  }

  /** Go's {@code %v} of a number, boolean or string (strings unquoted). */
  static String plain(Object value) {
    if (value instanceof Double d) {
      return formatFloat(d);
    }
    return String.valueOf(value);
  }

  /**
   * A bad value as apimachinery's {@code field.Error} prints it: numbers and booleans with {@code
   * %v}, strings quoted, null as {@code "null"}, structures with {@code %#v}.
   */
  static String badValue(Object value) {
    if (value == null) {
      return quote("null");
    }
    if (value instanceof String s) {
      return quote(s);
    }
    if (value instanceof Number || value instanceof Boolean) {
      return plain(value);
    }
    return goSyntax(value);
  }

  /** Go's {@code %#v} of a value decoded from JSON (maps print with sorted keys). */
  static String goSyntax(Object value) {
    if (value == null) {
      return "interface {}(nil)";
    }
    if (value instanceof String s) {
      return quote(s);
    }
    if (value instanceof Number || value instanceof Boolean) {
      return plain(value);
    }
    if (value instanceof Map<?, ?> map) {
      StringBuilder out = new StringBuilder("map[string]interface {}{");
      String separator = "";
      for (Map.Entry<String, ?> e : new TreeMap<>(Values.asMap(map)).entrySet()) {
        out.append(separator).append(quote(e.getKey())).append(':').append(goSyntax(e.getValue()));
        separator = ", ";
      }
      return out.append('}').toString();
    }
    if (value instanceof List<?> list) {
      StringBuilder out = new StringBuilder("[]interface {}{");
      String separator = "";
      for (Object item : list) {
        out.append(separator).append(goSyntax(item));
        separator = ", ";
      }
      return out.append('}').toString();
    }
    return String.valueOf(value);
  }
}
