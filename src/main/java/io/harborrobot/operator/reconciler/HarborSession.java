package io.harborrobot.operator.reconciler;

import io.harborrobot.operator.harbor.HarborClient;

/**
 * A ready-to-use Harbor client for one connection, with what the operator learned from Harbor about
 * it.
 *
 * @param connection the connection as Kind/name, for status and messages
 * @param client the client, authenticated with the connection's credentials
 * @param registryHost the host[:port] docker logs in to
 * @param harborVersion the version Harbor reported, or null
 * @param harborUrl the connection's URL, as the spec gives it
 */
public record HarborSession(
    String connection,
    HarborClient client,
    String registryHost,
    String harborVersion,
    String harborUrl) {

  public HarborSession(String connection, HarborClient client, String registryHost) {
    this(connection, client, registryHost, null, null);
  }
}
