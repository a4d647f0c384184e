package io.harborrobot.operator.reliability;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * The bad-input catalogue: one YAML file per invalid or hostile manifest under {@value #FOLDER} (on
 * the test classpath), each starting with a comment header that says what must happen to it:
 *
 * <pre>
 * # expect: rejected: &lt;text the API server's (kubectl's) message contains&gt;
 * # expect: reason: &lt;the HarborRobot's Ready=False reason&gt;
 * # why: &lt;a sentence, continued on lines starting "#   "&gt;
 * # given: harbor-robot: &lt;project&gt;/&lt;name&gt;   (set-up a manifest cannot express)
 * # model: unreadable                          (Jackson cannot read it into the operator's model)
 * # unvalidated: reason: &lt;X&gt;                    (what the operator makes of it where the CRD's
 *                                               validation is not enforced)
 * </pre>
 *
 * A {@code rejected} case is one document, refused by the CRD's schema or CEL rules. A {@code
 * reason} case is one HarborRobot plus what it needs (Secrets, connections), all of which an API
 * server accepts; the operator must answer it with that reason, in the robot's own namespace(s)
 * (created by the integration test with a Harbor project and a HarborConnection "harbor" each).
 *
 * <p>{@code model: unreadable} marks the rejected cases that the operator's model classes cannot be
 * read into; {@code unvalidated} says which Ready reason the operator gives a readable rejected
 * HarborRobot when an API server that does not enforce the CRD's validation (the in-memory one, a
 * CRD installed without its schema) stores it anyway: its own checks are the only defence there.
 */
final class BadInputCatalogue {

  static final String FOLDER = "io/harborrobot/operator/reliability/bad-input";

  /** Duplicate keys refused; numbers as {@link #numbers} makes them. */
  static final ObjectMapper YAML =
      YAMLMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

  private static final String EXPECT = "# expect: ";
  private static final String REJECTED = "rejected: ";
  private static final String REASON = "reason: ";
  private static final String UNVALIDATED = "# unvalidated: ";

  private BadInputCatalogue() {}

  /** What must happen to a case. */
  enum Outcome {
    /** The API server refuses it: {@link Case#expected()} is contained in kubectl's message. */
    REJECTED,
    /** Admitted; the HarborRobot gets Ready=False with reason {@link Case#expected()}. */
    REASON
  }

  /**
   * One file.
   *
   * @param file its name
   * @param outcome null when the file does not start with a well-formed expectation line
   * @param expected the message text or the reason
   * @param why the human sentence
   * @param given set-up lines ({@code harbor-robot: project/name})
   * @param unreadable whether the header says {@code model: unreadable}
   * @param unvalidated the reason of the {@code unvalidated} line, null without one
   * @param documents the YAML documents, in file order
   */
  record Case(
      String file,
      Outcome outcome,
      String expected,
      String why,
      List<String> given,
      boolean unreadable,
      String unvalidated,
      List<Map<String, Object>> documents) {

    /** The case's HarborRobot documents. */
    List<Map<String, Object>> robots() {
      return documents.stream().filter(d -> "HarborRobot".equals(d.get("kind"))).toList();
    }

    @Override
    public String toString() {
      return file;
    }
  }

  /**
   * The field a refusal message names: {@code spec.x: ...} or {@code ... unknown field "spec.x"}.
   */
  static String refusedField(String message) {
    java.util.regex.Matcher unknown =
        java.util.regex.Pattern.compile("unknown field \"([^\"]+)\"").matcher(message);
    return unknown.find() ? unknown.group(1) : message.substring(0, message.indexOf(':'));
  }

  /** Every case, by file name. */
  static List<Case> load() {
    Path folder = folder();
    try (Stream<Path> files = Files.list(folder)) {
      return files
          .filter(p -> p.getFileName().toString().endsWith(".yaml"))
          .sorted()
          .map(BadInputCatalogue::read)
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The names of the files in the folder, whatever their extension. */
  static List<String> allFiles() {
    try (Stream<Path> files = Files.list(folder())) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path folder() {
    URL url =
        Objects.requireNonNull(
            BadInputCatalogue.class.getClassLoader().getResource(FOLDER),
            FOLDER + " is not on the test classpath");
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Case read(Path path) {
    String text;
    try {
      text = Files.readString(path, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Outcome outcome = null;
    String expected = null;
    StringBuilder why = new StringBuilder();
    List<String> given = new ArrayList<>();
    boolean unreadable = false;
    String unvalidated = null;
    boolean inWhy = false;
    List<String> lines = text.lines().toList();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (!line.startsWith("#")) {
        break; // the header is the comment block at the top
      }
      if (line.startsWith("#   ") && inWhy) {
        why.append(' ').append(line.substring(4).strip());
        continue;
      }
      inWhy = false;
      if (i == 0 && line.startsWith(EXPECT)) {
        String rest = line.substring(EXPECT.length());
        if (rest.startsWith(REJECTED) && !rest.substring(REJECTED.length()).isBlank()) {
          outcome = Outcome.REJECTED;
          expected = rest.substring(REJECTED.length());
        } else if (rest.startsWith(REASON) && !rest.substring(REASON.length()).isBlank()) {
          outcome = Outcome.REASON;
          expected = rest.substring(REASON.length()).strip();
        }
      } else if (line.startsWith("# why: ")) {
        why.append(line.substring("# why: ".length()).strip());
        inWhy = true;
      } else if (line.startsWith("# given: ")) {
        given.add(line.substring("# given: ".length()).strip());
      } else if (line.strip().equals("# model: unreadable")) {
        unreadable = true;
      } else if (line.startsWith(UNVALIDATED + REASON)) {
        unvalidated = line.substring((UNVALIDATED + REASON).length()).strip();
      }
    }
    return new Case(
        path.getFileName().toString(),
        outcome,
        expected,
        why.toString(),
        List.copyOf(given),
        unreadable,
        unvalidated,
        documents(path, text));
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> documents(Path path, String text) {
    List<Map<String, Object>> documents = new ArrayList<>();
    try (MappingIterator<Object> it = YAML.readerFor(Object.class).readValues(text)) {
      while (it.hasNextValue()) {
        Object document = it.nextValue();
        if (document == null) {
          continue; // an empty document, e.g. before the first ---
        }
        if (!(document instanceof Map<?, ?>)) {
          throw new IllegalStateException(path.getFileName() + ": a document is not an object");
        }
        documents.add((Map<String, Object>) numbers(document));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(path.getFileName() + " is not readable YAML", e);
    }
    return List.copyOf(documents);
  }

  /**
   * Integers as Longs, as the validator expects them ({@code USE_LONG_FOR_INTS}); an integer beyond
   * 64 bits as a Double, as the API server's JSON decoder reads it (int64 when it fits, else
   * float64), where {@code USE_LONG_FOR_INTS} would fail to read the file at all.
   */
  private static Object numbers(Object value) {
    if (value instanceof Map<?, ?> map) {
      Map<String, Object> copy = new LinkedHashMap<>();
      map.forEach((k, v) -> copy.put((String) k, numbers(v)));
      return copy;
    }
    if (value instanceof List<?> list) {
      return list.stream().map(BadInputCatalogue::numbers).toList();
    }
    if (value instanceof BigInteger big) {
      return big.bitLength() < 64 ? (Object) big.longValue() : (Object) big.doubleValue();
    }
    if (value instanceof Integer i) {
      return i.longValue();
    }
    return value;
  }

  /** {@code metadata.name} of a document. */
  static String name(Map<String, Object> document) {
    return (String) metadata(document).get("name");
  }

  /** {@code metadata.namespace} of a document, null when it names none. */
  static String namespace(Map<String, Object> document) {
    return (String) metadata(document).get("namespace");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> metadata(Map<String, Object> document) {
    return document.get("metadata") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
  }
}
