package io.harborrobot.operator.validation;

import static io.harborrobot.operator.validation.Values.asMap;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Checks manifests of custom resources the way a Kubernetes API server (1.32) does when they are
 * created or updated with {@code kubectl apply}, so that the sandbox can refuse what a cluster
 * would refuse, with the message kubectl would print, and tests can pin the CRDs' rules.
 *
 * <p>The steps, in the API server's order:
 *
 * <ol>
 *   <li>Decoding with strict field validation (kubectl's default since 1.27): a field the schema
 *       does not declare, outside {@code x-kubernetes-preserve-unknown-fields}, refuses the request
 *       before anything else is checked ({@link Violation#UNKNOWN_FIELD}). Then defaulting from the
 *       schema (see {@link CrdSchema}); with a status subresource, {@code status} is dropped on
 *       create and kept from the stored object on update.
 *   <li>metadata: a name that is a DNS-1123 subdomain; for a namespaced kind the namespace is
 *       optional (kubectl fills it in) but must be a DNS-1123 label when given.
 *   <li>The OpenAPI schema: types, required, enum, pattern, minimum/maximum, minLength/maxLength,
 *       minItems/maxItems, ... with kube-openapi's messages (see {@link SchemaCheck}).
 *   <li>The CEL rules ({@link CelRules}), unless the schema errors include one that blocks them (a
 *       wrong type, a missing required field, a value outside an enum, a too long string or list):
 *       the API server then reports {@code <nil>: Invalid value: "null": some validation rules were
 *       not checked because the object was invalid; correct the existing errors to complete
 *       validation} instead.
 * </ol>
 *
 * <p>Not reproduced: ratcheting on update (errors of unchanged values are reported here), the CEL
 * cost budget, admission webhooks and policies, {@code metadata} checks beyond name and namespace
 * (labels, annotations, immutability of the name), list-type uniqueness, {@code format}; Go visits
 * object properties in random order, this class in the manifest's order. See {@link CelRules} and
 * {@link SchemaCheck} for the details of each step.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class ManifestValidator {

  /** The CRDs packaged in the jar (from crds/, see the pom's resources). */
  public static final List<String> PACKAGED_CRDS =
      List.of(
          "META-INF/crds/harborrobots.harborrobot.io-v1.yml",
          "META-INF/crds/harborconnections.harborrobot.io-v1.yml",
          "META-INF/crds/clusterharborconnections.harborrobot.io-v1.yml");

  private record Served(CrdSchema schema, CelRules rules) {}

  private static final class Packaged {
    static final ManifestValidator INSTANCE = loadPackaged();
  }

  private final List<Served> served;

  private ManifestValidator(List<Served> served) {
    this.served = List.copyOf(served);
  }

  /**
   * The CRDs packaged in the jar under META-INF/crds/ ({@link #PACKAGED_CRDS}); one shared
   * instance.
   *
   * @throws IllegalStateException if a CRD is missing or one of its rules does not compile (the API
   *     server would refuse such a CRD; CrdCelRulesTest keeps this from happening)
   */
  public static ManifestValidator forPackagedCrds() {
    return Packaged.INSTANCE;
  }

  private static ManifestValidator loadPackaged() {
    KubernetesSerialization serialization = new KubernetesSerialization();
    List<CustomResourceDefinition> crds = new ArrayList<>();
    for (String resource : PACKAGED_CRDS) {
      try (InputStream in =
          ManifestValidator.class.getClassLoader().getResourceAsStream(resource)) {
        if (in == null) {
          throw new IllegalStateException(resource + " is missing from the classpath");
        }
        crds.add(serialization.unmarshal(in, CustomResourceDefinition.class));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    ManifestValidator validator = of(crds);
    List<String> broken =
        validator.celRules().stream()
            .filter(r -> !r.compileErrors().isEmpty())
            .map(r -> r + ": " + r.compileErrors())
            .toList();
    if (!broken.isEmpty()) {
      throw new IllegalStateException("CEL rules that do not compile: " + broken);
    }
    return validator;
  }

  /**
   * From CRD objects, e.g. read from a folder. Every served version is checked against its own
   * schema. A rule that does not compile is listed with its errors by {@link #celRules()} and
   * reported as {@code rule compile error} when it would run (as an API server that somehow stored
   * such a CRD does).
   */
  public static ManifestValidator of(List<CustomResourceDefinition> crds) {
    KubernetesSerialization serialization = new KubernetesSerialization();
    List<Served> served = new ArrayList<>();
    for (CustomResourceDefinition crd : crds) {
      for (CrdSchema schema : CrdSchema.servedVersions(crd, serialization)) {
        served.add(new Served(schema, new CelRules(schema)));
      }
    }
    return new ManifestValidator(served);
  }

  /** Whether objects of this apiVersion/kind are described by one of the CRDs. */
  public boolean handles(String apiVersion, String kind) {
    return find(apiVersion, kind) != null;
  }

  private Served find(Object apiVersion, Object kind) {
    for (Served s : served) {
      if (s.schema().apiVersion().equals(apiVersion) && s.schema().kind().equals(kind)) {
        return s;
      }
    }
    return null;
  }

  /** Every CEL rule of every served version, for tests that pin them. */
  public List<CelRule> celRules() {
    return served.stream().flatMap(s -> s.rules().rules().stream()).toList();
  }

  /**
   * Checks {@code object} (a manifest parsed into Maps/Lists/Longs/Doubles/Strings/Booleans, e.g.
   * by Jackson YAML with {@code USE_LONG_FOR_INTS}) as an API server would on create ({@code old ==
   * null}) or update ({@code old} = the stored object); objects of kinds it does not handle pass.
   * Does not modify {@code object}.
   *
   * @return the violations in the API server's order, empty when accepted
   */
  public List<Violation> validate(Map<String, Object> object, Map<String, Object> old) {
    return review(object, old).violations();
  }

  /**
   * null when accepted; else the message kubectl would print (without a trailing newline), e.g.
   *
   * <pre>
   * The HarborRobot "ci" is invalid: spec: Invalid value: "object": repository push requires repository pull: add pull to the repository actions
   * </pre>
   *
   * or, for several violations (kubectl's {@code MultilineError}: the first line ends with {@code
   * ": "}, a space included; identical lines are shown once):
   *
   * <pre>
   * The HarborRobot "ci" is invalid:
   * &#42; spec.durationDays: Invalid value: 5000: spec.durationDays in body should be less than or equal to 3650
   * &#42; spec: Invalid value: "object": repository push requires repository pull: add pull to the repository actions
   * </pre>
   *
   * A field the schema does not declare is refused while decoding, as {@code kubectl apply} shows
   * it (without the {@code error when creating "<file>": } part, which names the file):
   *
   * <pre>
   * Error from server (BadRequest): HarborRobot in version "v1alpha1" cannot be handled as a HarborRobot: strict decoding error: unknown field "spec.foo"
   * </pre>
   */
  public String rejection(Map<String, Object> object, Map<String, Object> old) {
    Review review = review(object, old);
    if (review.violations().isEmpty()) {
      return null;
    }
    Served s = find(object.get("apiVersion"), object.get("kind"));
    String kind = s.schema().kind();
    List<Violation> unknown =
        review.violations().stream().filter(v -> v.type().equals(Violation.UNKNOWN_FIELD)).toList();
    if (!unknown.isEmpty()) {
      return "Error from server (BadRequest): "
          + kind
          + " in version "
          + GoText.quote(s.schema().version())
          + " cannot be handled as a "
          + kind
          + ": strict decoding error: "
          + unknown.stream()
              .map(v -> "unknown field " + GoText.quote(v.field()))
              .collect(Collectors.joining(", "));
    }
    Object name = asMap(object.get("metadata")).get("name");
    String prefix =
        "The " + kind + " " + GoText.quote(name instanceof String n ? n : "") + " is invalid: ";
    Set<String> lines = new LinkedHashSet<>();
    for (Violation v : review.violations()) {
      lines.add(v.field() + ": " + v.body());
    }
    if (lines.size() == 1) {
      return prefix + lines.iterator().next();
    }
    return prefix + "\n" + lines.stream().map(l -> "* " + l).collect(Collectors.joining("\n"));
  }

  /**
   * What the API server does with {@code object}, step by step, for tests and diagnostics. {@link
   * #validate} returns its {@link Review#violations()}.
   */
  public Review review(Map<String, Object> object, Map<String, Object> old) {
    Served s = object == null ? null : find(object.get("apiVersion"), object.get("kind"));
    if (s == null) {
      return new Review(null, List.of(), List.of(), List.of());
    }
    CrdSchema crd = s.schema();
    Map<String, Object> admitted = Values.copyMap(object);
    Map<String, Object> stored = old == null ? null : Values.copyMap(old);
    List<Violation> unknown =
        crd.unknownFields(admitted).stream().map(Violation::unknownField).toList();
    crd.applyDefaults(admitted);
    if (stored != null) {
      crd.applyDefaults(stored);
    }
    if (crd.statusSubresource()) {
      admitted.remove("status");
      if (stored != null && stored.get("status") != null) {
        admitted.put("status", Values.copy(stored.get("status")));
      }
    }
    if (!unknown.isEmpty()) {
      return new Review(admitted, unknown, List.of(), unknown);
    }
    SchemaCheck check = new SchemaCheck();
    check.metadata(admitted.get("metadata"), crd.namespaced());
    check.schema(admitted, crd.schema());
    List<Violation> violations = new ArrayList<>(check.violations());
    List<CelRule.Failure> failures = List.of();
    if (check.blocking()) {
      violations.add(SchemaCheck.notChecked());
    } else {
      failures = s.rules().evaluate(admitted, stored);
      failures.forEach(f -> violations.add(f.violation()));
    }
    return new Review(admitted, check.violations(), failures, violations);
  }

  /**
   * The steps of {@link #review}.
   *
   * @param object the object as the API server would store it: a defaulted copy (with a status
   *     subresource, {@code status} dropped on create and taken from the stored object on update);
   *     null when the kind is not handled
   * @param schemaViolations what decoding, metadata and the OpenAPI schema found
   * @param ruleFailures the CEL rules that failed, with the rule; empty when the rules did not run
   * @param violations everything the API server reports, in its order: {@link #schemaViolations},
   *     then either the rules' violations or the error saying that they were not checked
   */
  public record Review(
      Map<String, Object> object,
      List<Violation> schemaViolations,
      List<CelRule.Failure> ruleFailures,
      List<Violation> violations) {

    /** Copies the lists. */
    public Review {
      schemaViolations = List.copyOf(schemaViolations);
      ruleFailures = List.copyOf(ruleFailures);
      violations = List.copyOf(violations);
    }

    /** Whether the API server would accept the object. */
    public boolean accepted() {
      return violations.isEmpty();
    }
  }
}
