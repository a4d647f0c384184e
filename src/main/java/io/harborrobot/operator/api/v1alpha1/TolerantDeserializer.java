package io.harborrobot.operator.api.v1alpha1;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reads one of this operator's custom resources without failing on what does not fit the model (see
 * {@link ReadProblems}): it reads strictly, and while that fails on a field below {@code spec} (or
 * an unknown top-level field), it sets that field aside, notes why in the words the API server
 * would have used, and reads again. What does not fit below {@code status} is dropped quietly: the
 * status is the operator's own, and one written by a newer version is rewritten at the next
 * reconcile. Objects whose metadata cannot be read still fail, as they would anywhere.
 */
public abstract class TolerantDeserializer<T extends TolerantResource<?, ?>>
    extends StdDeserializer<T> {

  /** More fields set aside than this, and the rest of the spec is set aside in one go. */
  private static final int MAX_PROBLEMS = 20;

  private static final int MAX_VALUE_CHARS = 64;

  private static final Set<String> ENVELOPE = Set.of("apiVersion", "kind", "metadata");

  /**
   * Configured as the Kubernetes client configures its own mapper, but reading the model classes
   * with Jackson's plain bean deserializers (not this one, which would recurse).
   */
  private static final ObjectMapper STRICT = strictMapper();

  private final Class<T> type;

  protected TolerantDeserializer(Class<T> type) {
    super(type);
    this.type = type;
  }

  @Override
  public T deserialize(JsonParser parser, DeserializationContext context) throws IOException {
    JsonNode tree;
    if (parser.currentToken() == JsonToken.START_OBJECT) {
      // Nearly every object fits the model: read it from a copy of its tokens, and build a tree
      // (to set fields aside) only when it does not. Tokens cost a fraction of a tree, and every
      // watch event and list of the operator's resources comes through here.
      TokenBuffer tokens = context.bufferAsCopyOfValue(parser);
      try (JsonParser copy = tokens.asParser()) {
        T value = STRICT.readValue(copy, type);
        value.recordReadProblems(List.of());
        return value;
      } catch (JsonProcessingException | IllegalArgumentException e) {
        try (JsonParser copy = tokens.asParser()) {
          tree = STRICT.readTree(copy);
        }
      }
    } else {
      tree = context.readTree(parser);
    }
    if (!(tree instanceof ObjectNode original)) {
      return type.cast(context.handleUnexpectedToken(type, parser));
    }
    ObjectNode object = original;
    List<String> problems = new ArrayList<>();
    while (true) {
      try {
        T value = STRICT.treeToValue(object, type);
        value.recordReadProblems(problems);
        return value;
      } catch (JsonProcessingException | IllegalArgumentException e) {
        JsonMappingException failure = mappingFailure(e);
        List<Object> path = failure == null ? List.of() : path(failure);
        if (path.isEmpty() || ENVELOPE.contains(path.get(0))) {
          throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
        }
        if (object == original) {
          object = original.deepCopy();
        }
        boolean inStatus = "status".equals(path.get(0));
        if (!inStatus && problems.size() >= MAX_PROBLEMS) {
          problems.add("spec: too many problems, the rest of the spec was set aside");
          object.remove("spec");
          continue;
        }
        JsonNode value = setAside(object, path);
        if (!inStatus) {
          problems.add(describe(failure, path, value));
        }
      }
    }
  }

  private static ObjectMapper strictMapper() {
    ObjectMapper mapper = new ObjectMapper();
    new KubernetesSerialization(mapper, false);
    for (Class<?> model :
        List.of(HarborRobot.class, HarborConnection.class, ClusterHarborConnection.class)) {
      mapper.addMixIn(model, BeanDeserialization.class);
    }
    return mapper;
  }

  /** Overrides the model classes' {@code @JsonDeserialize(using = ...)} inside {@link #STRICT}. */
  @JsonDeserialize(using = JsonDeserializer.None.class)
  private abstract static class BeanDeserialization {}

  private static JsonMappingException mappingFailure(Exception e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof JsonMappingException m) {
        return m;
      }
    }
    return null;
  }

  /** Field names and list indexes from the object's root to where reading failed. */
  private static List<Object> path(JsonMappingException failure) {
    List<Object> path = new ArrayList<>();
    for (JsonMappingException.Reference ref : failure.getPath()) {
      if (ref.getFieldName() != null) {
        path.add(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        path.add(ref.getIndex());
      } else {
        return List.of();
      }
    }
    return path;
  }

  /** Removes the node at {@code path} from {@code root} and returns it (null when absent). */
  private static JsonNode setAside(ObjectNode root, List<Object> path) {
    JsonNode parent = root;
    for (Object step : path.subList(0, path.size() - 1)) {
      parent = step instanceof Integer i ? parent.path(i) : parent.path((String) step);
    }
    Object last = path.get(path.size() - 1);
    if (parent instanceof ObjectNode o && last instanceof String field) {
      return o.remove(field);
    }
    if (parent instanceof ArrayNode a && last instanceof Integer index && index < a.size()) {
      return a.remove(index);
    }
    // Not where the failure says: set the whole top-level field aside, so reading progresses.
    return root.remove((String) path.get(0));
  }

  /** What the API server would have said about the field, as far as the failure tells. */
  static String describe(JsonMappingException failure, List<Object> path, JsonNode value) {
    String field = dotted(path);
    if (failure instanceof UnrecognizedPropertyException) {
      return "unknown field \"" + field + "\"";
    }
    Class<?> target = failure instanceof MismatchedInputException m ? m.getTargetType() : null;
    if (target != null && target.isEnum() && value != null && value.isTextual()) {
      return field
          + ": Unsupported value: \""
          + shorten(value.asText())
          + "\": supported values: "
          + Arrays.stream(target.getEnumConstants())
              .map(c -> "\"" + c + "\"")
              .sorted()
              .collect(Collectors.joining(", "));
    }
    String expected = target == null ? null : jsonType(target);
    String actual = value == null ? null : jsonType(value);
    if (expected != null && actual != null && !expected.equals(actual)) {
      return field + " must be of type " + expected + ", not " + actual;
    }
    if (value != null && value.isNumber()) {
      return field + ": " + shorten(value.asText()) + " is out of range";
    }
    if (failure instanceof InvalidFormatException && value != null) {
      return field + ": invalid value \"" + shorten(value.asText()) + "\"";
    }
    return field + " cannot be read";
  }

  private static String dotted(List<Object> path) {
    StringBuilder text = new StringBuilder();
    for (Object step : path) {
      if (step instanceof Integer i) {
        text.append('[').append(i).append(']');
      } else {
        text.append(text.length() == 0 ? "" : ".").append(step);
      }
    }
    return text.toString();
  }

  private static String jsonType(Class<?> target) {
    if (target == Integer.class
        || target == int.class
        || target == Long.class
        || target == long.class
        || target == Short.class
        || target == short.class) {
      return "integer";
    }
    if (Number.class.isAssignableFrom(target) || target == double.class || target == float.class) {
      return "number";
    }
    if (target == Boolean.class || target == boolean.class) {
      return "boolean";
    }
    if (target == String.class || target.isEnum()) {
      return "string";
    }
    if (Collection.class.isAssignableFrom(target) || target.isArray()) {
      return "array";
    }
    return "object";
  }

  private static String jsonType(JsonNode value) {
    return switch (value.getNodeType()) {
      case STRING -> "string";
      case NUMBER -> value.isIntegralNumber() ? "integer" : "number";
      case BOOLEAN -> "boolean";
      case ARRAY -> "array";
      case OBJECT, POJO -> "object";
      default -> "null";
    };
  }

  private static String shorten(String text) {
    return text.length() <= MAX_VALUE_CHARS ? text : text.substring(0, MAX_VALUE_CHARS) + "...";
  }

  /** For {@link HarborRobot}. */
  public static final class ForHarborRobot extends TolerantDeserializer<HarborRobot> {
    public ForHarborRobot() {
      super(HarborRobot.class);
    }
  }

  /** For {@link HarborConnection}. */
  public static final class ForHarborConnection extends TolerantDeserializer<HarborConnection> {
    public ForHarborConnection() {
      super(HarborConnection.class);
    }
  }

  /** For {@link ClusterHarborConnection}. */
  public static final class ForClusterHarborConnection
      extends TolerantDeserializer<ClusterHarborConnection> {
    public ForClusterHarborConnection() {
      super(ClusterHarborConnection.class);
    }
  }
}
