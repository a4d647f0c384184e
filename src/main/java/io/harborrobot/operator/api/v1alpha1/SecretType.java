package io.harborrobot.operator.api.v1alpha1;

/** The shape of the Kubernetes Secret that carries the robot's credentials. */
public enum SecretType {
  /**
   * kubernetes.io/dockerconfigjson, usable as an imagePullSecret; plus username/password/registry.
   */
  DockerConfigJson,
  /** kubernetes.io/basic-auth: keys username and password, plus registry. */
  BasicAuth,
  /**
   * Opaque, with the variables of GitLab's Harbor integration for a CI job's envFrom: HARBOR_URL,
   * HARBOR_HOST, HARBOR_OCI, HARBOR_PROJECT, HARBOR_USERNAME, HARBOR_PASSWORD.
   */
  Env
}
