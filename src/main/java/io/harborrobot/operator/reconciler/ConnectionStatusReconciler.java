package io.harborrobot.operator.reconciler;

import io.fabric8.kubernetes.client.CustomResource;
import io.harborrobot.operator.api.v1alpha1.HarborConnectionStatus;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.PrimaryUpdateAndCacheUtils;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;

/**
 * The connection controller: keeps a connection's status (reachable, authenticated, version,
 * registry host, TLS) current, and looks again on a schedule. One subclass per kind, since JOSDK
 * takes one primary type per reconciler.
 */
public abstract class ConnectionStatusReconciler<
        C extends CustomResource<?, HarborConnectionStatus>>
    implements Reconciler<C> {

  private final ConnectionChecks checks;

  protected ConnectionStatusReconciler(ConnectionChecks checks) {
    this.checks = checks;
  }

  /** The connection as the robots see it. */
  protected abstract ResolvedConnection resolve(C connection);

  @Override
  public UpdateControl<C> reconcile(C connection, Context<C> context) {
    HarborConnectionStatus status =
        checks.check(connection, resolve(connection), connection.getStatus());
    if (status.equals(connection.getStatus())) {
      return UpdateControl.<C>noUpdate().rescheduleAfter(checks.lookAgainAfter());
    }
    // A full status update (optimistic locking): merge patches do not replace the conditions
    // list on every API server this runs against.
    PrimaryUpdateAndCacheUtils.updateStatusAndCacheResource(
        connection,
        context,
        c -> {
          c.setStatus(status);
          return c;
        });
    return UpdateControl.<C>noUpdate().rescheduleAfter(checks.lookAgainAfter());
  }
}
