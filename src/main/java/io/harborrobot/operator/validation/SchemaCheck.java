package io.harborrobot.operator.validation;

import static io.harborrobot.operator.validation.Values.asList;
import static io.harborrobot.operator.validation.Values.asMap;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The checks an API server makes before it runs CEL rules, with its messages: the object's metadata
 * ({@code ValidateObjectMetaAccessor} with DNS-1123 subdomain names) and the OpenAPI schema
 * (kube-openapi's {@code SchemaValidator}, whose errors apiextensions-apiserver turns into field
 * errors in {@code ValidateCustomResource}).
 *
 * <p>Per value, in kube-openapi's order: type; maxLength, else minLength, else pattern; multipleOf,
 * maximum, minimum; the items of an array, then minItems and maxItems; enum; for an object
 * maxProperties/minProperties, its properties (in the object's order; Go visits them in random
 * order), then required. Field paths are kube-openapi's: {@code spec.permissions[0].actions},
 * additionalProperties values as {@code spec.secret.labels.app}.
 *
 * <p>Not checked: {@code format}, {@code uniqueItems}, {@code allOf}/{@code anyOf}/{@code
 * oneOf}/{@code not} (the CRDs here use none of them), {@code x-kubernetes-list-type} set/map
 * uniqueness, labels and annotations syntax. {@code x-kubernetes-int-or-string} accepts an integer
 * or a string and otherwise reports {@code must be of type integer,string}.
 */
final class SchemaCheck {

  private static final String DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
  private static final String DNS1123_SUBDOMAIN = DNS1123_LABEL + "(\\." + DNS1123_LABEL + ")*";
  private static final Pattern DNS1123_LABEL_PATTERN = Pattern.compile("^" + DNS1123_LABEL + "$");
  private static final Pattern DNS1123_SUBDOMAIN_PATTERN =
      Pattern.compile("^" + DNS1123_SUBDOMAIN + "$");
  private static final String DNS1123_SUBDOMAIN_MESSAGE =
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or"
          + " '.', and must start and end with an alphanumeric character";
  private static final String DNS1123_LABEL_MESSAGE =
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and"
          + " must start and end with an alphanumeric character";

  private static final Map<String, Pattern> PATTERNS = new ConcurrentHashMap<>();

  private final List<Violation> violations = new ArrayList<>();
  private boolean blocking;

  /**
   * The violations found so far, in the order the API server reports them.
   *
   * @return an unmodifiable copy
   */
  List<Violation> violations() {
    return List.copyOf(violations);
  }

  /**
   * Whether a violation found blocks the CEL rules: the API server skips them after a required,
   * enum, maxLength, maxItems, maxProperties or type error ({@code hasBlockingErr}), reporting
   * {@link #notChecked()} instead.
   */
  boolean blocking() {
    return blocking;
  }

  /** The error the API server adds in place of the CEL rules it skipped. */
  static Violation notChecked() {
    return Violation.invalid(
        "<nil>",
        null,
        "some validation rules were not checked because the object was invalid; correct the"
            + " existing errors to complete validation");
  }

  private void add(Violation violation, boolean blocks) {
    violations.add(violation);
    blocking |= blocks;
  }

  // ------------------------------------------------------------------------------------------
  // metadata
  // ------------------------------------------------------------------------------------------

  /**
   * ObjectMeta as the API server checks it for a custom resource: a name that is a DNS-1123
   * subdomain, and for a namespaced kind a namespace that is a DNS-1123 label when one is given
   * (kubectl and the request path supply it otherwise; a cluster-scoped kind's namespace is
   * cleared, not refused).
   */
  void metadata(Object metadata, boolean namespaced) {
    Map<String, Object> meta = metadata instanceof Map<?, ?> ? asMap(metadata) : Map.of();
    Object name = meta.get("name");
    if (name == null || "".equals(name)) {
      if (!(meta.get("generateName") instanceof String generate) || generate.isEmpty()) {
        add(Violation.required("metadata.name", "name or generateName is required"), true);
      }
    } else if (!(name instanceof String s)) {
      add(Violation.invalid("metadata.name", name, "must be a string"), false);
    } else {
      if (s.length() > 253) {
        add(Violation.invalid("metadata.name", s, "must be no more than 253 characters"), false);
      }
      if (!DNS1123_SUBDOMAIN_PATTERN.matcher(s).matches()) {
        add(
            Violation.invalid(
                "metadata.name",
                s,
                regexError(DNS1123_SUBDOMAIN_MESSAGE, DNS1123_SUBDOMAIN, "example.com")),
            false);
      }
    }
    Object namespace = meta.get("namespace");
    if (namespaced && namespace != null && !"".equals(namespace)) {
      if (!(namespace instanceof String s)) {
        add(Violation.invalid("metadata.namespace", namespace, "must be a string"), false);
      } else {
        if (s.length() > 63) {
          add(
              Violation.invalid("metadata.namespace", s, "must be no more than 63 characters"),
              false);
        }
        if (!DNS1123_LABEL_PATTERN.matcher(s).matches()) {
          add(
              Violation.invalid(
                  "metadata.namespace",
                  s,
                  regexError(DNS1123_LABEL_MESSAGE, DNS1123_LABEL, "my-name", "123-abc")),
              false);
        }
      }
    }
  }

  /** apimachinery's {@code validation.RegexError}, double space and all. */
  private static String regexError(String message, String regex, String... examples) {
    StringBuilder out = new StringBuilder(message).append(" (e.g. ");
    for (int i = 0; i < examples.length; i++) {
      if (i > 0) {
        out.append(" or ");
      }
      out.append('\'').append(examples[i]).append("', ");
    }
    return out.append("regex used for validation is '").append(regex).append("')").toString();
  }

  // ------------------------------------------------------------------------------------------
  // OpenAPI schema (kube-openapi)
  // ------------------------------------------------------------------------------------------

  /** Checks the whole object against the CRD's openAPIV3Schema. */
  void schema(Map<String, Object> object, Map<String, Object> schema) {
    check(object, schema, "");
  }

  /**
   * The field of an error named {@code name} by kube-openapi: apiextensions trims a leading dot;
   * the object itself is a nil path.
   */
  private static String field(String name) {
    String trimmed = name.startsWith(".") ? name.substring(1) : name;
    return trimmed.isEmpty() ? "<nil>" : trimmed;
  }

  private void check(Object value, Map<String, Object> schema, String name) {
    String field = field(name);
    String type = expectedType(schema);
    if (value == null) {
      if (type != null && !CrdSchema.nullable(schema)) {
        add(typeError(field, name, type, "null"), true);
      }
      checkEnum(value, schema, field);
      return;
    }
    String actual = Values.jsonType(value);
    if (type != null && !typeMatches(type, actual, value)) {
      add(typeError(field, name, type, actual), true);
    }
    if (value instanceof String s) {
      checkString(s, schema, field, name);
    }
    if (value instanceof Number number) {
      checkNumber(number, schema, field, name);
    }
    if (value instanceof List<?> list) {
      checkList(list, schema, field, name);
    }
    checkEnum(value, schema, field);
    if (value instanceof Map<?, ?> map) {
      checkObject(asMap(map), schema, field, name);
    }
  }

  private static String expectedType(Map<String, Object> schema) {
    if (Boolean.TRUE.equals(schema.get("x-kubernetes-int-or-string"))) {
      return "integer,string";
    }
    return schema.get("type") instanceof String t && !t.isEmpty() ? t : null;
  }

  private static boolean typeMatches(String expected, String actual, Object value) {
    for (String type : expected.split(",")) {
      if (type.equals(actual)
          || (type.equals("number") && actual.equals("integer"))
          || (type.equals("integer")
              && value instanceof Double d
              && !d.isInfinite()
              && d == Math.rint(d))) {
        return true;
      }
    }
    return false;
  }

  private static Violation typeError(String field, String name, String type, String actual) {
    return Violation.invalid(
        field, actual, name + " in body must be of type " + type + ": " + GoText.quote(actual));
  }

  private void checkString(String s, Map<String, Object> schema, String field, String name) {
    long length = s.codePointCount(0, s.length());
    if (schema.get("maxLength") instanceof Number max && length > max.longValue()) {
      add(Violation.tooLong(field, max.longValue()), true);
    } else if (schema.get("minLength") instanceof Number min && length < min.longValue()) {
      add(
          Violation.invalid(
              field, s, name + " in body should be at least " + min.longValue() + " chars long"),
          false);
    } else if (schema.get("pattern") instanceof String pattern) {
      Pattern compiled;
      try {
        compiled = PATTERNS.computeIfAbsent(pattern, Pattern::compile);
      } catch (PatternSyntaxException e) {
        add(
            Violation.invalid(
                field,
                s,
                name
                    + " in body should match '"
                    + pattern
                    + ", but pattern is invalid: "
                    + e.getDescription()
                    + "'"),
            false);
        return;
      }
      if (!compiled.matcher(s).find()) {
        add(Violation.invalid(field, s, name + " in body should match '" + pattern + "'"), false);
      }
    }
  }

  private void checkNumber(Number number, Map<String, Object> schema, String field, String name) {
    boolean integral = Values.isInteger(number);
    double value = number.doubleValue();
    if (schema.get("multipleOf") instanceof Number factor) {
      boolean multiple =
          integral
              ? factor.longValue() != 0 && number.longValue() % factor.longValue() == 0
              : isIntegral(
                  factor.doubleValue() < 1
                      ? 1 / factor.doubleValue() * value
                      : value / factor.doubleValue());
      if (!multiple) {
        add(
            Violation.invalid(
                field,
                number,
                name + " in body should be a multiple of " + bound(factor, integral)),
            false);
      }
    }
    if (schema.get("maximum") instanceof Number max) {
      boolean exclusive = Boolean.TRUE.equals(schema.get("exclusiveMaximum"));
      double limit = integral ? (double) max.longValue() : max.doubleValue();
      if (exclusive ? value >= limit : value > limit) {
        add(
            Violation.invalid(
                field,
                number,
                name
                    + " in body should be less than "
                    + (exclusive ? "" : "or equal to ")
                    + bound(max, integral)),
            false);
      }
    }
    if (schema.get("minimum") instanceof Number min) {
      boolean exclusive = Boolean.TRUE.equals(schema.get("exclusiveMinimum"));
      double limit = integral ? (double) min.longValue() : min.doubleValue();
      if (exclusive ? value <= limit : value < limit) {
        add(
            Violation.invalid(
                field,
                number,
                name
                    + " in body should be greater than "
                    + (exclusive ? "" : "or equal to ")
                    + bound(min, integral)),
            false);
      }
    }
  }

  private static boolean isIntegral(double d) {
    return !Double.isInfinite(d) && d == Math.rint(d);
  }

  /** A bound as kube-openapi prints it: as an int64 for an integer value, else as a float64. */
  private static String bound(Number bound, boolean integral) {
    return integral ? Long.toString(bound.longValue()) : GoText.formatFloat(bound.doubleValue());
  }

  private void checkList(List<?> list, Map<String, Object> schema, String field, String name) {
    if (schema.get("items") instanceof Map<?, ?> items) {
      for (int i = 0; i < list.size(); i++) {
        check(list.get(i), asMap(items), name + "[" + i + "]");
      }
    }
    long size = list.size();
    if (schema.get("minItems") instanceof Number min && size < min.longValue()) {
      add(
          Violation.invalid(
              field, size, name + " in body should have at least " + min.longValue() + " items"),
          false);
    }
    if (schema.get("maxItems") instanceof Number max && size > max.longValue()) {
      add(Violation.tooMany(field, size, max.longValue()), true);
    }
  }

  private void checkEnum(Object value, Map<String, Object> schema, String field) {
    if (!(schema.get("enum") instanceof List<?> values) || values.isEmpty()) {
      return;
    }
    for (Object allowed : values) {
      if (value != null && Values.jsonEquals(value, allowed)) {
        return;
      }
    }
    List<String> supported = new ArrayList<>();
    for (Object allowed : values) {
      supported.add(allowed instanceof String s ? s : json(allowed));
    }
    add(Violation.notSupported(field, value, supported), true);
  }

  /** Go's {@code json.Marshal} of a JSON value (enough for enum values). */
  private static String json(Object value) {
    if (value == null) {
      return "null";
    }
    if (value instanceof String s) {
      return GoText.quote(s);
    }
    if (value instanceof Number || value instanceof Boolean) {
      return GoText.plain(value);
    }
    if (value instanceof List<?> list) {
      List<String> items = new ArrayList<>();
      list.forEach(v -> items.add(json(v)));
      return "[" + String.join(",", items) + "]";
    }
    List<String> entries = new ArrayList<>();
    new TreeMap<>(asMap(value)).forEach((k, v) -> entries.add(GoText.quote(k) + ":" + json(v)));
    return "{" + String.join(",", entries) + "}";
  }

  private void checkObject(
      Map<String, Object> map, Map<String, Object> schema, String field, String name) {
    long size = map.size();
    if (schema.get("maxProperties") instanceof Number max && size > max.longValue()) {
      add(Violation.tooMany(field, size, max.longValue()), true);
      return;
    }
    if (schema.get("minProperties") instanceof Number min && size < min.longValue()) {
      add(
          Violation.invalid(
              field,
              size,
              name + " in body should have at least " + min.longValue() + " properties"),
          false);
      return;
    }
    Map<String, Object> properties = asMap(schema.get("properties"));
    if (schema.get("additionalProperties") instanceof Map<?, ?> values) {
      map.forEach(
          (key, v) -> {
            if (!properties.containsKey(key)) {
              check(v, asMap(values), name + "." + key);
            }
          });
    }
    map.forEach(
        (key, v) -> {
          if (properties.containsKey(key)) {
            check(v, asMap(properties.get(key)), name.isEmpty() ? key : name + "." + key);
          }
        });
    for (Object required : asList(schema.get("required"))) {
      if (!map.containsKey(String.valueOf(required))) {
        add(Violation.required(field(name + "." + required), ""), true);
      }
    }
  }
}
