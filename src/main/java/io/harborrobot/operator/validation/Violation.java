package io.harborrobot.operator.validation;

import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * One reason an API server would refuse a manifest, in the shape of apimachinery's {@code
 * field.Error}.
 *
 * <p>{@link #toString()} is {@code field.Error.Error()}: {@code <field>: <type>[: <detail>]}, e.g.
 *
 * <pre>
 * spec.durationDays: Invalid value: 5000: spec.durationDays in body should be less than or equal to 3650
 * spec.secret.type: Unsupported value: "Opaque": supported values: "BasicAuth", "DockerConfigJson", "Env"
 * spec.project: Required value
 * spec: Invalid value: "object": repository push requires repository pull: add pull to the repository actions
 * spec.foo: field not declared in schema
 * </pre>
 *
 * @param field the field path as the API server prints it: {@code spec.permissions[0].actions};
 *     {@code <nil>} for the object itself (a rule at the root of the schema)
 * @param type the error type as printed: one of the constants of this record, e.g. {@value
 *     #INVALID} or {@value #REQUIRED}; {@value #UNKNOWN_FIELD} for a field the schema does not
 *     declare (which the API server refuses while decoding, before any other check)
 * @param detail everything apimachinery prints after the type: the offending value when the type
 *     shows one (Go-formatted: {@code 5000}, {@code "Opaque"}, {@code "object"}) and the
 *     explanation, joined by {@code ": "}; empty when there is nothing (a plain {@code Required
 *     value})
 */
public record Violation(String field, String type, String detail) {

  /** {@code field.ErrorTypeRequired}. */
  public static final String REQUIRED = "Required value";

  /** {@code field.ErrorTypeInvalid}, and {@code field.ErrorTypeTypeInvalid} (wrong JSON type). */
  public static final String INVALID = "Invalid value";

  /** {@code field.ErrorTypeNotSupported}: a value outside an enum. */
  public static final String NOT_SUPPORTED = "Unsupported value";

  /** {@code field.ErrorTypeTooLong}: a string over maxLength. */
  public static final String TOO_LONG = "Too long";

  /** {@code field.ErrorTypeTooMany}: a list over maxItems. */
  public static final String TOO_MANY = "Too many";

  /** {@code field.ErrorTypeForbidden}: a CEL rule with {@code reason: FieldValueForbidden}. */
  public static final String FORBIDDEN = "Forbidden";

  /** {@code field.ErrorTypeDuplicate}: a CEL rule with {@code reason: FieldValueDuplicate}. */
  public static final String DUPLICATE = "Duplicate value";

  /** {@code field.ErrorTypeInternal}. */
  public static final String INTERNAL = "Internal error";

  /**
   * A field the schema does not declare (outside {@code x-kubernetes-preserve-unknown-fields}):
   * server-side apply's wording; with strict field validation (kubectl's default) the API server
   * refuses the request with {@code strict decoding error: unknown field "<field>"}.
   */
  public static final String UNKNOWN_FIELD = "field not declared in schema";

  /** Checks the components; a null detail becomes empty. */
  public Violation {
    Objects.requireNonNull(field, "field");
    Objects.requireNonNull(type, "type");
    detail = detail == null ? "" : detail;
  }

  /** apimachinery's {@code field.Error.Error()}: {@code <field>: <type>[: <detail>]}. */
  @Override
  public String toString() {
    return field + ": " + type + (detail.isEmpty() ? "" : ": " + detail);
  }

  /** apimachinery's {@code ErrorBody()}: the message without the field. */
  String body() {
    return type + (detail.isEmpty() ? "" : ": " + detail);
  }

  // ------------------------------------------------------------------------------------------
  // The constructors of apimachinery's field package
  // ------------------------------------------------------------------------------------------

  static Violation required(String field, String detail) {
    return new Violation(field, REQUIRED, detail);
  }

  static Violation forbidden(String field, String detail) {
    return new Violation(field, FORBIDDEN, detail);
  }

  static Violation invalid(String field, Object value, String detail) {
    return new Violation(field, INVALID, withValue(value, detail));
  }

  static Violation duplicate(String field, Object value) {
    return new Violation(field, DUPLICATE, GoText.badValue(value));
  }

  static Violation notSupported(String field, Object value, List<String> supported) {
    String detail =
        supported.isEmpty()
            ? ""
            : "supported values: "
                + supported.stream().map(GoText::quote).collect(Collectors.joining(", "));
    return new Violation(field, NOT_SUPPORTED, withValue(value, detail));
  }

  /** {@code field.TooLongMaxLength}: the value itself is not shown. */
  static Violation tooLong(String field, long maxLength) {
    return new Violation(
        field,
        TOO_LONG,
        maxLength >= 0 ? "may not be longer than " + maxLength : "value is too long");
  }

  static Violation tooMany(String field, long actual, long max) {
    return new Violation(
        field,
        TOO_MANY,
        withValue(actual, max >= 0 ? "must have at most " + max + " items" : "has too many items"));
  }

  static Violation internal(String field, String detail) {
    return new Violation(field, INTERNAL, detail);
  }

  static Violation unknownField(String field) {
    return new Violation(field, UNKNOWN_FIELD, "");
  }

  private static String withValue(Object value, String detail) {
    String shown = GoText.badValue(value);
    return detail == null || detail.isEmpty() ? shown : shown + ": " + detail;
  }
}
