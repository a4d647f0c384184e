package io.harborrobot.operator.reconciler;

import io.harborrobot.operator.api.v1alpha1.HarborConnection;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;

/** Keeps each HarborConnection's status. */
@ControllerConfiguration(name = HarborConnectionReconciler.NAME)
public class HarborConnectionReconciler extends ConnectionStatusReconciler<HarborConnection> {

  public static final String NAME = "harborconnection";

  public HarborConnectionReconciler(ConnectionChecks checks) {
    super(checks);
  }

  @Override
  protected ResolvedConnection resolve(HarborConnection connection) {
    return ResolvedConnection.of(connection);
  }
}
