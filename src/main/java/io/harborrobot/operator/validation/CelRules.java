package io.harborrobot.operator.validation;

import static io.harborrobot.operator.validation.Values.asList;
import static io.harborrobot.operator.validation.Values.asMap;

import com.google.common.collect.ImmutableCollection;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSet;
import dev.cel.bundle.Cel;
import dev.cel.bundle.CelBuilder;
import dev.cel.bundle.CelFactory;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelOptions;
import dev.cel.common.CelValidationResult;
import dev.cel.common.types.CelType;
import dev.cel.common.types.CelTypeProvider;
import dev.cel.common.types.ListType;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import dev.cel.common.types.StructType;
import dev.cel.extensions.CelExtensions;
import dev.cel.extensions.CelStringExtensions;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.validator.CelValidatorFactory;
import dev.cel.validator.validators.DurationLiteralValidator;
import dev.cel.validator.validators.HomogeneousLiteralValidator;
import dev.cel.validator.validators.RegexLiteralValidator;
import dev.cel.validator.validators.TimestampLiteralValidator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The CEL rules ({@code x-kubernetes-validations}) of one served CRD version, compiled and
 * evaluated the way a Kubernetes 1.29+ API server does, with the CEL-Java library.
 *
 * <p>What is reproduced from the API server:
 *
 * <ul>
 *   <li>{@code self} (and {@code oldSelf} for transition rules) is typed from the OpenAPI schema at
 *       the rule's location, as {@code SchemaDeclType} does: objects become struct types with their
 *       declared fields only, arrays lists, additionalProperties maps; the resource root gets
 *       {@code apiVersion}, {@code kind} and a {@code metadata} with only {@code name} and {@code
 *       generateName}. A rule reading an undeclared field, or comparing an int to a string, fails
 *       to compile here as it would there. A rule must be a {@code bool}, a {@code
 *       messageExpression} a {@code string}. Property names are escaped as the API server escapes
 *       them: reserved words become {@code __namespace__} etc., {@code -}, {@code .}, {@code /} and
 *       {@code __} become {@code __dash__}, {@code __dot__}, {@code __slash__}, {@code
 *       __underscores__}; other names are not accessible.
 *   <li>The language of the 1.29 base environment that CEL-Java has: the standard macros (has, all,
 *       exists, exists_one, map, filter; not the newer {@code existsOne}), the strings extension at
 *       the functions of version 2 ({@code join}, {@code split}, ...; not {@code reverse}),
 *       homogeneous aggregate literals, cross-type numeric comparisons, and the literal checks of
 *       1.29 (regex, duration, timestamp, homogeneous literals). Kubernetes' own libraries ({@code
 *       isSorted}, {@code url}, {@code quantity}, {@code ip}, {@code format}, ...) are missing: a
 *       rule that uses one fails to compile here and the function has to be declared and bound.
 *   <li>Transition rules (rules that mention {@code oldSelf}) are refused below a list that is not
 *       {@code x-kubernetes-list-type: map}, and are only evaluated when an old value exists
 *       (correlated through object fields, map keys and the keys of map-type lists).
 *   <li>Rules run on the defaulted object, depth first (a node's rules, then its children), and not
 *       below a field that is absent or null. A failing rule reports its {@code messageExpression}
 *       result (trimmed, if it is a non-empty single line of at most 5 KiB), else its {@code
 *       message}, else {@code failed rule: <rule>}, as {@code <path>: Invalid value: "<schema
 *       type>": <message>} (1.32 shows the schema type, e.g. {@code "object"} or {@code "string"},
 *       not the value; a rule at the root has the path {@code <nil>}); {@code reason} gives
 *       Forbidden, Required or Duplicate value instead, {@code fieldPath} extends the path. An
 *       evaluation error reports {@code <error> evaluating rule: <message or rule>}.
 * </ul>
 *
 * <p>Not reproduced: the cost estimate and the runtime cost budget (see shared/LIBRARIES.md for
 * what a real 1.32 API server said about these rules), ratcheting (1.30+ ignores errors of
 * unchanged values on update), {@code optionalOldSelf}, and CEL-Go's exact wording of evaluation
 * errors.
 */
final class CelRules {

  private static final Pattern OLD_SELF = Pattern.compile("\\boldSelf\\b");

  /** CEL's reserved words, which Kubernetes escapes as __word__ when they name a property. */
  private static final Set<String> CEL_RESERVED =
      Set.of(
          "true",
          "false",
          "null",
          "in",
          "as",
          "break",
          "const",
          "continue",
          "else",
          "for",
          "function",
          "if",
          "import",
          "let",
          "loop",
          "package",
          "namespace",
          "return",
          "var",
          "void",
          "while");

  private static final Set<String> VALIDATION_KEYS =
      Set.of("rule", "message", "messageExpression", "reason", "fieldPath");

  private static final Set<String> REASONS =
      Set.of(
          "FieldValueInvalid", "FieldValueForbidden", "FieldValueRequired", "FieldValueDuplicate");

  /** celconfig.MaxEvaluatedMessageExpressionSizeBytes */
  private static final int MAX_MESSAGE_BYTES = 5 * 1024;

  /**
   * Kubernetes 1.29+ base environment options that CEL-Java has; homogeneous aggregate literals are
   * enforced by {@link HomogeneousLiteralValidator} (the option for it is deprecated).
   */
  private static final CelOptions OPTIONS =
      CelOptions.current()
          .enableHeterogeneousNumericComparisons(true)
          .enableQuotedIdentifierSyntax(false)
          .build();

  /** ext.Strings(ext.StringsVersion(2)): everything CEL-Java has except reverse (version 3). */
  private static final CelStringExtensions STRINGS =
      CelExtensions.strings(EnumSet.complementOf(EnumSet.of(CelStringExtensions.Function.REVERSE)));

  /** A schema node with the rules at it and the nodes below it that have rules. */
  private static final class Node {
    final Map<String, Object> schema;
    final List<CelRule> rules = new ArrayList<>();
    final Map<String, Node> properties = new LinkedHashMap<>();
    Node items;
    Node values;
    List<String> mapKeys = List.of();

    Node(Map<String, Object> schema) {
      this.schema = schema;
    }

    /** The schema's type as the API server shows it as the value of a failed rule. */
    String type() {
      return schema.get("type") instanceof String t ? t : "";
    }

    /** Whether rules sit at or below this node; computed once all rules are in place. */
    boolean active;

    boolean activate() {
      boolean below = false;
      for (Node child : properties.values()) {
        below |= child.activate();
      }
      below |= items != null && items.activate();
      below |= values != null && values.activate();
      active = below || !rules.isEmpty();
      return active;
    }
  }

  /** A rule found in the schema, before compilation. */
  private record Found(
      Node node,
      String location,
      boolean correlatable,
      CelType selfType,
      Map<String, Object> validation) {}

  private final CrdSchema crd;
  private final List<StructType> types = new ArrayList<>();
  private final Node root;
  private final List<CelRule> rules;

  CelRules(CrdSchema crd) {
    this.crd = crd;
    this.root = new Node(crd.schema());
    List<Found> found = new ArrayList<>();
    declare(root, crd.kind(), "", true, true, found);
    CelTypeProvider provider = typeProvider(List.copyOf(types));
    List<CelRule> compiled = new ArrayList<>();
    for (Found f : found) {
      CelRule rule = compile(f, provider);
      f.node().rules.add(rule);
      compiled.add(rule);
    }
    this.rules = List.copyOf(compiled);
    root.activate();
  }

  /** Every rule, in schema order (a node's children before the node). */
  List<CelRule> rules() {
    return rules;
  }

  // ------------------------------------------------------------------------------------------
  // Types of self (SchemaDeclType) and the rules found on the way
  // ------------------------------------------------------------------------------------------

  private CelType declare(
      Node node,
      String typeName,
      String location,
      boolean correlatable,
      boolean resourceRoot,
      List<Found> found) {
    Map<String, Object> schema = node.schema;
    CelType type;
    if (Boolean.TRUE.equals(schema.get("x-kubernetes-int-or-string"))) {
      type = SimpleType.DYN;
    } else {
      type =
          switch (String.valueOf(schema.get("type"))) {
            case "object" ->
                declareObject(node, typeName, location, correlatable, resourceRoot, found);
            case "array" -> {
              Map<String, Object> items = asMap(schema.get("items"));
              boolean mapList = "map".equals(schema.get("x-kubernetes-list-type"));
              node.items = new Node(items);
              if (mapList) {
                node.mapKeys =
                    asList(schema.get("x-kubernetes-list-map-keys")).stream()
                        .map(String::valueOf)
                        .toList();
              }
              yield ListType.create(
                  declare(
                      node.items,
                      typeName + "[]",
                      location + "[*]",
                      correlatable && mapList,
                      Boolean.TRUE.equals(items.get("x-kubernetes-embedded-resource")),
                      found));
            }
            case "string" ->
                switch (String.valueOf(schema.get("format"))) {
                  case "byte" -> SimpleType.BYTES;
                  case "duration" -> SimpleType.DURATION;
                  case "date", "date-time" -> SimpleType.TIMESTAMP;
                  default -> SimpleType.STRING;
                };
            case "integer" -> SimpleType.INT;
            case "number" -> SimpleType.DOUBLE;
            case "boolean" -> SimpleType.BOOL;
            default -> SimpleType.DYN;
          };
    }
    for (Object validation : asList(schema.get("x-kubernetes-validations"))) {
      found.add(
          new Found(
              node, location.isEmpty() ? "." : location, correlatable, type, asMap(validation)));
    }
    return type;
  }

  private CelType declareObject(
      Node node,
      String typeName,
      String location,
      boolean correlatable,
      boolean resourceRoot,
      List<Found> found) {
    Map<String, Object> schema = node.schema;
    if (schema.get("additionalProperties") instanceof Map<?, ?> values) {
      node.values = new Node(asMap(values));
      return MapType.create(
          SimpleType.STRING,
          declare(node.values, typeName + "{}", location + "{*}", correlatable, false, found));
    }
    Map<String, CelType> fields = new LinkedHashMap<>();
    asMap(schema.get("properties"))
        .forEach(
            (name, property) -> {
              Map<String, Object> propertySchema = asMap(property);
              Node child = new Node(propertySchema);
              node.properties.put(name, child);
              CelType childType =
                  declare(
                      child,
                      typeName + "." + name,
                      location + "." + name,
                      correlatable,
                      Boolean.TRUE.equals(propertySchema.get("x-kubernetes-embedded-resource")),
                      found);
              celName(name).ifPresent(cel -> fields.put(cel, childType));
            });
    if (resourceRoot) {
      // WithTypeAndObjectMeta: only metadata.name and metadata.generateName are visible.
      fields.put("apiVersion", SimpleType.STRING);
      fields.put("kind", SimpleType.STRING);
      fields.put(
          "metadata",
          struct(
              typeName + ".metadata",
              Map.of("name", SimpleType.STRING, "generateName", SimpleType.STRING)));
    }
    return struct(typeName, fields);
  }

  private StructType struct(String name, Map<String, CelType> fields) {
    Map<String, CelType> copy = Map.copyOf(fields);
    StructType type =
        StructType.create(
            name, ImmutableSet.copyOf(fields.keySet()), f -> Optional.ofNullable(copy.get(f)));
    types.add(type);
    return type;
  }

  private static CelTypeProvider typeProvider(List<StructType> types) {
    return new CelTypeProvider() {
      @Override
      public ImmutableCollection<CelType> types() {
        return ImmutableList.copyOf(types);
      }

      @Override
      public Optional<CelType> findType(String typeName) {
        return types.stream()
            .filter(t -> t.name().equals(typeName))
            .map(CelType.class::cast)
            .findFirst();
      }
    };
  }

  /**
   * A property's name as rules spell it (apiserver's {@code cel.Escape}), or empty when rules
   * cannot access it.
   */
  static Optional<String> celName(String property) {
    if (property.isEmpty() || Character.isDigit(property.charAt(0))) {
      return Optional.empty();
    }
    if (CEL_RESERVED.contains(property)) {
      return Optional.of("__" + property + "__");
    }
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < property.length(); i++) {
      char c = property.charAt(i);
      if (c == '_' && i + 1 < property.length() && property.charAt(i + 1) == '_') {
        out.append("__underscores__");
        i++;
      } else if (c == '.') {
        out.append("__dot__");
      } else if (c == '-') {
        out.append("__dash__");
      } else if (c == '/') {
        out.append("__slash__");
      } else if (c == '_' || (c < 128 && Character.isLetterOrDigit(c))) {
        out.append(c);
      } else {
        return Optional.empty();
      }
    }
    return Optional.of(out.toString());
  }

  // ------------------------------------------------------------------------------------------
  // Compiling
  // ------------------------------------------------------------------------------------------

  private CelRule compile(Found found, CelTypeProvider provider) {
    Map<String, Object> validation = found.validation();
    List<String> errors = new ArrayList<>();
    for (String key : validation.keySet()) {
      if (!VALIDATION_KEYS.contains(key)) {
        errors.add(key + " is not supported by this validator");
      }
    }
    String rule = validation.get("rule") instanceof String r ? r : "";
    if (rule.isBlank()) {
      errors.add("rule is empty");
    }
    boolean transition = OLD_SELF.matcher(rule).find();
    if (transition && !found.correlatable()) {
      errors.add(
          "oldSelf cannot be used below a list that is not x-kubernetes-list-type: map"
              + " (the API server refuses the CRD)");
    }
    if (validation.get("message") instanceof String message
        && (message.isBlank() || message.contains("\n"))) {
      errors.add("message must be a non-blank single line: '" + message + "'");
    }
    if (validation.get("reason") != null && !REASONS.contains(validation.get("reason"))) {
      errors.add("reason must be one of " + REASONS + ", not " + validation.get("reason"));
    }
    if (validation.get("fieldPath") != null
        && !(validation.get("fieldPath") instanceof String path && path.startsWith("."))) {
      errors.add("fieldPath must be a path starting with '.'");
    }
    CelRuntime.Program program = null;
    CelRuntime.Program messageProgram = null;
    if (!rule.isBlank()) {
      CelBuilder builder =
          CelFactory.standardCelBuilder()
              .setOptions(OPTIONS)
              .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
              .addCompilerLibraries(STRINGS)
              .addRuntimeLibraries(STRINGS)
              .setTypeProvider(provider)
              .addVar("self", found.selfType());
      if (transition) {
        builder.addVar("oldSelf", found.selfType());
      }
      Cel cel = builder.build();
      program = program(cel, rule, SimpleType.BOOL, "rule", errors);
      if (validation.get("messageExpression") instanceof String expression) {
        messageProgram = program(cel, expression, SimpleType.STRING, "messageExpression", errors);
      }
    }
    return new CelRule(
        crd,
        found.location(),
        validation,
        found.node().schema,
        transition,
        errors,
        program,
        messageProgram);
  }

  private static CelRuntime.Program program(
      Cel cel, String expression, CelType resultType, String what, List<String> errors) {
    try {
      CelValidationResult compiled = cel.compile(expression);
      if (compiled.hasError()) {
        errors.add(what + " does not compile:\n" + compiled.getErrorString());
        return null;
      }
      CelAbstractSyntaxTree ast = compiled.getAst();
      CelValidationResult checked =
          CelValidatorFactory.standardCelValidatorBuilder(cel)
              .addAstValidators(
                  RegexLiteralValidator.INSTANCE,
                  DurationLiteralValidator.INSTANCE,
                  TimestampLiteralValidator.INSTANCE,
                  HomogeneousLiteralValidator.newInstance())
              .build()
              .validate(ast);
      if (checked.hasError()) {
        errors.add(what + " fails the API server's literal checks:\n" + checked.getErrorString());
        return null;
      }
      if (!ast.getResultType().equals(resultType)) {
        errors.add(
            what
                + " must evaluate to "
                + resultType.name()
                + ", not "
                + ast.getResultType().name());
        return null;
      }
      return cel.createProgram(ast);
    } catch (Exception e) {
      errors.add(what + " does not compile: " + e);
      return null;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Evaluating
  // ------------------------------------------------------------------------------------------

  /**
   * Runs the rules over a defaulted object, as on create ({@code old} null) or update ({@code old}
   * the defaulted stored object).
   */
  List<CelRule.Failure> evaluate(Map<String, Object> object, Map<String, Object> old) {
    List<CelRule.Failure> failures = new ArrayList<>();
    visit(root, object, old, null, failures);
    return failures;
  }

  private void visit(
      Node node, Object value, Object old, String path, List<CelRule.Failure> failures) {
    if (value == null || !node.active) {
      return;
    }
    for (CelRule rule : node.rules) {
      evaluate(rule, node, value, old, path, failures);
    }
    if (value instanceof Map<?, ?> raw) {
      Map<String, Object> map = asMap(raw);
      Map<String, Object> oldMap = old instanceof Map<?, ?> m ? asMap(m) : Map.of();
      if (node.values != null) {
        map.forEach(
            (k, v) -> {
              if (!node.properties.containsKey(k)) {
                visit(node.values, v, oldMap.get(k), key(path, k), failures);
              }
            });
      }
      map.forEach(
          (k, v) -> {
            Node child = node.properties.get(k);
            if (child != null) {
              visit(child, v, oldMap.get(k), child(path, k), failures);
            }
          });
    } else if (value instanceof List<?> list && node.items != null) {
      for (int i = 0; i < list.size(); i++) {
        Object item = list.get(i);
        visit(node.items, item, correlate(node, item, old), index(path, i), failures);
      }
    }
  }

  private static String child(String path, String name) {
    return path == null ? name : path + "." + name;
  }

  private static String index(String path, int i) {
    return (path == null ? "" : path) + "[" + i + "]";
  }

  private static String key(String path, String key) {
    return (path == null ? "" : path) + "[" + key + "]";
  }

  /** The old item of a map-type list with the same keys; items of other lists do not correlate. */
  private static Object correlate(Node list, Object item, Object old) {
    if (list.mapKeys.isEmpty() || !(old instanceof List<?> oldList) || !(item instanceof Map)) {
      return null;
    }
    return oldList.stream()
        .filter(
            o ->
                o instanceof Map
                    && list.mapKeys.stream()
                        .allMatch(k -> Objects.equals(asMap(o).get(k), asMap(item).get(k))))
        .findFirst()
        .orElse(null);
  }

  private static void evaluate(
      CelRule rule,
      Node node,
      Object value,
      Object old,
      String path,
      List<CelRule.Failure> failures) {
    if (rule.transition() && old == null) {
      return;
    }
    String at = path == null ? "<nil>" : path;
    if (rule.program() == null) {
      // The API server would have refused the CRD; one it already has reports this.
      String message = "rule compile error: " + String.join("; ", rule.compileErrors());
      failures.add(
          new CelRule.Failure(
              rule, Violation.invalid(at, node.type(), message), message, "does not compile"));
      return;
    }
    Map<String, Object> vars = new HashMap<>();
    vars.put("self", escaped(value, node.schema));
    if (rule.transition()) {
      vars.put("oldSelf", escaped(old, node.schema));
    }
    Object result;
    try {
      result = rule.program().eval(vars);
    } catch (CelEvaluationException e) {
      String message = e.getMessage() + " evaluating rule: " + rule.ruleErrorString();
      failures.add(
          new CelRule.Failure(
              rule,
              Violation.invalid(at, node.type(), message),
              message,
              "evaluation error: " + e));
      return;
    }
    if (Boolean.TRUE.equals(result)) {
      return;
    }
    String problem = Boolean.FALSE.equals(result) ? null : "rule gave " + result;
    String message = rule.fallbackMessage();
    if (rule.messageProgram() != null) {
      Object evaluated;
      try {
        evaluated = rule.messageProgram().eval(vars);
      } catch (CelEvaluationException e) {
        evaluated = e;
      }
      String text = evaluated instanceof String s ? s.strip() : null;
      if (text != null
          && !text.isEmpty()
          && !text.contains("\n")
          && text.getBytes(StandardCharsets.UTF_8).length <= MAX_MESSAGE_BYTES) {
        message = text;
      } else if (problem == null) {
        // The API server logs this and reports the message (or the rule) instead.
        problem =
            evaluated instanceof CelEvaluationException e
                ? "messageExpression failed: " + e.getMessage()
                : "messageExpression gave '" + evaluated + "'";
      }
    }
    String field = at;
    if (rule.fieldPath() != null) {
      String relative = rule.fieldPath().substring(1);
      field = path == null ? relative : path + "." + relative;
    }
    failures.add(
        new CelRule.Failure(rule, violation(rule, field, node.type(), message), message, problem));
  }

  /** apiextensions' {@code fieldErrorForReason}. */
  private static Violation violation(CelRule rule, String field, String type, String message) {
    String reason = rule.reason() == null ? "FieldValueInvalid" : rule.reason();
    return switch (reason) {
      case "FieldValueForbidden" -> Violation.forbidden(field, message);
      case "FieldValueRequired" -> Violation.required(field, message);
      case "FieldValueDuplicate" -> Violation.duplicate(field, type);
      default -> Violation.invalid(field, type, message);
    };
  }

  /** A value with its object properties renamed as {@link #celName} does; map keys stay. */
  private static Object escaped(Object value, Map<String, Object> schema) {
    if (value instanceof Map<?, ?> map && schema.get("properties") instanceof Map<?, ?> raw) {
      Map<String, Object> properties = asMap(raw);
      Map<String, Object> out = new LinkedHashMap<>();
      asMap(map)
          .forEach(
              (k, v) -> {
                if (properties.containsKey(k)) {
                  Optional<String> name = celName(k);
                  if (name.isPresent()) {
                    out.put(name.get(), escaped(v, asMap(properties.get(k))));
                  }
                } else {
                  out.put(k, v);
                }
              });
      return out;
    }
    if (value instanceof Map<?, ?> map
        && schema.get("additionalProperties") instanceof Map<?, ?> v) {
      Map<String, Object> valueSchema = asMap(v);
      Map<String, Object> out = new LinkedHashMap<>();
      asMap(map).forEach((k, item) -> out.put(k, escaped(item, valueSchema)));
      return out;
    }
    if (value instanceof List<?> list && schema.get("items") instanceof Map<?, ?> items) {
      Map<String, Object> itemSchema = asMap(items);
      return list.stream().map(item -> escaped(item, itemSchema)).toList();
    }
    if (value instanceof Long l && "number".equals(schema.get("type"))) {
      return l.doubleValue(); // a double in CEL, whatever the JSON looked like
    }
    return value;
  }
}
