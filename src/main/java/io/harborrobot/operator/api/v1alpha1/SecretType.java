package io.harborrobot.operator.api.v1alpha1;

/** The shape of the Kubernetes Secret that carries the robot's credentials. */
public enum SecretType {
  /**
   * kubernetes.io/dockerconfigjson, usable as an imagePullSecret; plus username/password/registry.
   */
  DockerConfigJson
}
