package io.harborrobot.operator.api.v1alpha1;

/** Kinds of connection a HarborRobot can refer to. */
public enum ConnectionKind {
  /** A HarborConnection in the HarborRobot's own namespace. */
  HarborConnection,
  /** A cluster-wide ClusterHarborConnection, usable as its access rules allow. */
  ClusterHarborConnection
}
