package io.harborrobot.operator.reconciler;

import io.harborrobot.operator.api.v1alpha1.ClusterHarborConnection;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;

/** Keeps each ClusterHarborConnection's status. */
@ControllerConfiguration(name = ClusterHarborConnectionReconciler.NAME)
public class ClusterHarborConnectionReconciler
    extends ConnectionStatusReconciler<ClusterHarborConnection> {

  public static final String NAME = "clusterharborconnection";

  public ClusterHarborConnectionReconciler(ConnectionChecks checks) {
    super(checks);
  }

  @Override
  protected ResolvedConnection resolve(ClusterHarborConnection connection) {
    return ResolvedConnection.of(connection);
  }
}
