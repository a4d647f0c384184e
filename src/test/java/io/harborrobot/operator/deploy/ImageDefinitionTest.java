package io.harborrobot.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPath;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathExpressionException;
import javax.xml.xpath.XPathFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * The two ways to build the image, the {@code Dockerfile} (from the shaded jar) and the Jib profile
 * {@code image} of {@code pom.xml}, build the same thing: the pom's base image, a numeric non-root
 * user, the same JVM flags, port and labels; and the Dockerfile copies the shaded jar and nothing
 * else (the {@code .dockerignore} keeps the build context to it).
 */
class ImageDefinitionTest {

  static final Path DOCKERFILE = Path.of("Dockerfile");
  private static final Path DOCKERIGNORE = Path.of(".dockerignore");
  private static final Path POM = Path.of("pom.xml");

  /** The non-root user of distroless's {@code nonroot} images. */
  static final String NONROOT = "65532:65532";

  private static Dockerfile dockerfile;
  private static Document pom;
  private static Element jib;

  @BeforeAll
  static void readBothDefinitions() throws Exception {
    dockerfile = Dockerfile.parse(Files.readString(DOCKERFILE));
    pom = pom();
    jib =
        (Element)
            xpath()
                .evaluate(
                    "/project/profiles/profile[id='image']/build/plugins"
                        + "/plugin[artifactId='jib-maven-plugin']/configuration",
                    pom,
                    XPathConstants.NODE);
    assertThat(jib).as("the configuration of jib-maven-plugin in the profile image").isNotNull();
  }

  @Test
  void theImageIsBuiltFromThePomsBaseImageInOneStage() throws Exception {
    List<Instruction> from = dockerfile.all("FROM");
    assertThat(from).as("FROM instructions (one stage)").hasSize(1);
    assertThat(from.get(0).words()).as("FROM without a stage name or platform").hasSize(1);
    assertThat(dockerfile.resolve(from.get(0).words().get(0), true))
        .isEqualTo(buildProperty("image.base"));
    // Jib: the same property, not a copy of its value
    assertThat(text(jib, "from/image")).isEqualTo("${image.base}");
  }

  @Test
  void itRunsAsTheNumericNonRootUserOfTheJibProfile() throws Exception {
    List<Instruction> user = dockerfile.all("USER");
    assertThat(user).as("USER instructions").isNotEmpty();
    String last = user.get(user.size() - 1).args();
    assertThat(last).matches("[0-9]+:[0-9]+");
    assertThat(last.split(":")).doesNotContain("0");
    assertThat(last).isEqualTo(NONROOT);
    assertThat(text(jib, "container/user")).isEqualTo(last);
  }

  @Test
  void theOnlyFileCopiedIsTheShadedJar() throws Exception {
    assertThat(dockerfile.all("ADD")).as("ADD (fetches URLs, unpacks archives)").isEmpty();
    List<Instruction> copy = dockerfile.all("COPY");
    assertThat(copy).hasSize(1);
    assertThat(copy.get(0).words())
        .as("COPY without --from or --chown: root owns the jar, the operator cannot change it")
        .containsExactly("target/" + shadedJar(), "/app/" + shadedJar());
  }

  @Test
  void theBuildContextHoldsNothingButTheJar() throws IOException {
    List<String> patterns =
        Files.readAllLines(DOCKERIGNORE).stream()
            .map(String::trim)
            .filter(l -> !l.isEmpty() && !l.startsWith("#"))
            .toList();
    assertThat(patterns).as(".dockerignore").isNotEmpty();
    assertThat(patterns.get(0)).as("everything excluded first").isIn("*", "**");
    List<String> exceptions =
        patterns.stream().filter(p -> p.startsWith("!")).map(p -> p.substring(1)).toList();
    List<String> sources =
        dockerfile.all("COPY").stream()
            .map(Instruction::words)
            .map(w -> w.subList(0, w.size() - 1))
            .flatMap(List::stream)
            .toList();
    assertThat(exceptions).as("what .dockerignore lets in").isEqualTo(sources);
    assertThat(patterns).as("only exclusions and exceptions").hasSize(1 + exceptions.size());
  }

  @Test
  void theEntrypointRunsTheJarWithTheJvmFlagsOfTheJibProfile() throws Exception {
    List<Instruction> entrypoint = dockerfile.all("ENTRYPOINT");
    assertThat(entrypoint).hasSize(1);
    assertThat(entrypoint.get(0).args()).as("exec form: java is PID 1").startsWith("[");
    List<String> command =
        new ObjectMapper()
            .readValue(entrypoint.get(0).args(), new TypeReference<List<String>>() {});

    List<String> expected = new ArrayList<>();
    expected.add("java");
    expected.addAll(texts(jib, "container/jvmFlags/jvmFlag"));
    expected.add("-jar");
    expected.add("/app/" + shadedJar());
    assertThat(command).isEqualTo(expected);
    assertThat(texts(jib, "container/jvmFlags/jvmFlag"))
        .contains("-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError");
    // no arguments: `run`, as with Jib (its entry point is the main class, without arguments)
    assertThat(dockerfile.all("CMD")).isEmpty();
    assertThat(texts(jib, "container/args/arg")).isEmpty();
    // and the main class Jib starts is the shaded jar's
    assertThat(text(jib, "container/mainClass"))
        .isEqualTo(
            xpath()
                .evaluate(
                    "/project/build/plugins/plugin[artifactId='maven-shade-plugin']//transformer"
                        + "/mainClass",
                    pom));
  }

  @Test
  void theJibProfileBuildsTheSameImageUnderThePomsNameAndVersion() throws Exception {
    assertThat(text(jib, "to/image")).isEqualTo("${image.repository}:${project.version}");
    assertThat(texts(jib, "container/ports/port"))
        .isEqualTo(
            dockerfile.all("EXPOSE").stream()
                .flatMap(i -> i.words().stream())
                .map(p -> p.replace("/tcp", ""))
                .toList());
    assertThat(text(jib, "container/appRoot")).isEqualTo("/app");
  }

  @Test
  void theDockerfileCarriesTheLabelsOfTheJibProfileWithThePomsVersion() throws Exception {
    Map<String, String> labels = dockerfile.labels();
    assertThat(labels)
        .containsEntry("org.opencontainers.image.version", buildProperty("project.version"));
    assertThat(labels)
        .containsEntry("org.opencontainers.image.base.name", buildProperty("image.base"));
    NodeList jibLabels =
        (NodeList) xpath().evaluate("container/labels/*", jib, XPathConstants.NODESET);
    assertThat(jibLabels.getLength()).isPositive();
    for (int i = 0; i < jibLabels.getLength(); i++) {
      Node label = jibLabels.item(i);
      String value =
          label
              .getTextContent()
              .trim()
              .replace("${project.version}", buildProperty("project.version"));
      assertThat(labels).containsEntry(label.getNodeName(), value);
    }
  }

  /** The parser these tests rely on reads what Docker reads, and a broken definition shows. */
  @Test
  void theParserFollowsDockersRules() {
    Dockerfile parsed =
        Dockerfile.parse(
            """
            # a comment
            ARG BASE=example/base:1
            FROM ${BASE}
            ARG BASE
            ARG V=2
            LABEL a="x y" \\
            # a comment inside a continuation
                  b=$V c="${BASE}"
            ADD https://example.com/tool.tar.gz /
            USER root
            ENTRYPOINT java -jar /app.jar
            """);
    assertThat(parsed.all("FROM")).hasSize(1);
    assertThat(parsed.resolve(parsed.all("FROM").get(0).args(), true)).isEqualTo("example/base:1");
    assertThat(parsed.labels())
        .containsExactly(
            Map.entry("a", "x y"), Map.entry("b", "2"), Map.entry("c", "example/base:1"));
    assertThat(parsed.all("ADD")).isNotEmpty();
    assertThat(parsed.all("USER").get(0).args()).doesNotMatch("[0-9]+:[0-9]+");
    assertThat(parsed.all("ENTRYPOINT").get(0).args()).doesNotStartWith("[");
  }

  // --- reading the definitions ------------------------------------------------------------

  /**
   * A build property as Maven's surefire passes it ({@code project.version}, {@code image.base},
   * {@code image.repository}), or read from {@code pom.xml} when the test runs outside Maven.
   */
  static String buildProperty(String name) throws Exception {
    String value = System.getProperty(name);
    if (value != null && !value.isBlank()) {
      return value;
    }
    String path =
        name.equals("project.version") ? "/project/version" : "/project/properties/" + name;
    value = xpath().evaluate(path, pom()).trim();
    assertThat(value).as("build property %s", name).isNotBlank();
    return value;
  }

  /** The user the Dockerfile runs as, {@code uid:gid}. */
  static String dockerfileUser() throws IOException {
    List<Instruction> user = Dockerfile.parse(Files.readString(DOCKERFILE)).all("USER");
    assertThat(user).isNotEmpty();
    return user.get(user.size() - 1).args();
  }

  /** The shaded jar's file name: its {@code finalName}, the artifactId. */
  private static String shadedJar() throws Exception {
    String finalName =
        xpath()
            .evaluate(
                "/project/build/plugins/plugin[artifactId='maven-shade-plugin']//finalName", pom)
            .trim();
    assertThat(finalName).isEqualTo("${project.artifactId}");
    return xpath().evaluate("/project/artifactId", pom).trim() + ".jar";
  }

  private static Document pom() throws Exception {
    return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(POM.toFile());
  }

  private static XPath xpath() {
    return XPathFactory.newInstance().newXPath();
  }

  private static String text(Node context, String path) throws XPathExpressionException {
    return xpath().evaluate(path, context).trim();
  }

  private static List<String> texts(Node context, String path) throws XPathExpressionException {
    NodeList nodes = (NodeList) xpath().evaluate(path, context, XPathConstants.NODESET);
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < nodes.getLength(); i++) {
      texts.add(nodes.item(i).getTextContent().trim());
    }
    return texts;
  }

  /** One instruction: its keyword in upper case and the rest of its (joined) lines. */
  record Instruction(String keyword, String args) {
    /** The arguments split at white space, flags included. */
    List<String> words() {
      return List.of(args.trim().split("\\s+"));
    }
  }

  /**
   * A Dockerfile as Docker reads it: comment lines dropped (inside a continuation too), lines
   * ending in a backslash joined, {@code ARG} defaults substituted into {@code FROM} (the ones
   * before it) and {@code LABEL} (the ones declared in the stage, a bare {@code ARG NAME} taking
   * the value from before {@code FROM}).
   */
  record Dockerfile(List<Instruction> instructions) {

    private static final Pattern VARIABLE =
        Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}|\\$([A-Za-z_][A-Za-z0-9_]*)");

    static Dockerfile parse(String text) {
      List<Instruction> instructions = new ArrayList<>();
      StringBuilder current = new StringBuilder();
      for (String line : text.split("\\R")) {
        String trimmed = line.trim();
        if (trimmed.startsWith("#") || (trimmed.isEmpty() && current.isEmpty())) {
          continue;
        }
        if (trimmed.endsWith("\\")) {
          current.append(trimmed, 0, trimmed.length() - 1).append(' ');
          continue;
        }
        current.append(trimmed);
        String joined = current.toString().trim();
        current.setLength(0);
        if (joined.isEmpty()) {
          continue;
        }
        String[] parts = joined.split("\\s+", 2);
        instructions.add(
            new Instruction(parts[0].toUpperCase(Locale.ROOT), parts.length > 1 ? parts[1] : ""));
      }
      return new Dockerfile(instructions);
    }

    List<Instruction> all(String keyword) {
      return instructions.stream().filter(i -> i.keyword().equals(keyword)).toList();
    }

    /** {@code text} with the ARG values in scope before FROM ({@code global}) or after it. */
    String resolve(String text, boolean global) {
      Map<String, String> globals = new LinkedHashMap<>();
      Map<String, String> stage = new LinkedHashMap<>();
      boolean inStage = false;
      for (Instruction i : instructions) {
        if (i.keyword().equals("FROM")) {
          inStage = true;
        } else if (i.keyword().equals("ARG")) {
          String[] kv = i.args().trim().split("=", 2);
          if (!inStage) {
            globals.put(kv[0], kv.length > 1 ? unquote(kv[1]) : "");
          } else {
            stage.put(kv[0], kv.length > 1 ? unquote(kv[1]) : globals.getOrDefault(kv[0], ""));
          }
        }
      }
      Map<String, String> scope = global ? globals : stage;
      Matcher m = VARIABLE.matcher(text);
      StringBuilder out = new StringBuilder();
      while (m.find()) {
        String name = m.group(1) != null ? m.group(1) : m.group(2);
        m.appendReplacement(out, Matcher.quoteReplacement(scope.getOrDefault(name, "")));
      }
      m.appendTail(out);
      return out.toString();
    }

    /** Every LABEL's key=value pairs, quotes removed and ARG values substituted. */
    Map<String, String> labels() {
      Map<String, String> labels = new LinkedHashMap<>();
      for (Instruction label : all("LABEL")) {
        for (String pair : tokens(label.args())) {
          String[] kv = pair.split("=", 2);
          labels.put(unquote(kv[0]), kv.length > 1 ? resolve(unquote(kv[1]), false) : "");
        }
      }
      return labels;
    }

    /** Splits at white space outside double quotes. */
    private static List<String> tokens(String text) {
      List<String> tokens = new ArrayList<>();
      StringBuilder token = new StringBuilder();
      boolean quoted = false;
      for (char c : text.toCharArray()) {
        if (c == '"') {
          quoted = !quoted;
        }
        if (Character.isWhitespace(c) && !quoted) {
          if (!token.isEmpty()) {
            tokens.add(token.toString());
            token.setLength(0);
          }
        } else {
          token.append(c);
        }
      }
      if (!token.isEmpty()) {
        tokens.add(token.toString());
      }
      return tokens;
    }

    private static String unquote(String text) {
      return text.replace("\"", "");
    }
  }
}
