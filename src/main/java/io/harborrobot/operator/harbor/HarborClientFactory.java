package io.harborrobot.operator.harbor;

/** Builds a client for one Harbor endpoint. */
public interface HarborClientFactory {

  HarborClient create(HarborEndpoint endpoint);
}
