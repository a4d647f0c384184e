package io.harborrobot.operator.api.v1alpha1;

import java.util.List;

/**
 * A custom resource that is read even when parts of it do not fit this operator's model: a field of
 * the wrong type, an unknown enum value or an unknown field. An API server that enforces the CRD's
 * schema refuses such objects, but one whose CRD was installed without its schema, or is newer than
 * this operator, serves them; reading them strictly would stop the informer that lists every object
 * of the kind, and so the operator. What did not fit is set aside and named here, and the operator
 * reports it on the object instead of acting on it.
 */
public interface ReadProblems {

  /** What was set aside while reading, one sentence per field; empty when everything fitted. */
  List<String> readProblems();

  /** Records what {@link TolerantDeserializer} set aside (or what a copy carries over). */
  void recordReadProblems(List<String> problems);
}
