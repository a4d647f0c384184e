package io.harborrobot.operator.sandbox;

/**
 * Sees every HTTP exchange a {@link HarborEmulator} serves, e.g. to check it against Harbor's
 * OpenAPI file in tests. Called on the emulator's request thread after the request was applied and
 * <em>before</em> the response goes out, so by the time a client holds a response its exchange has
 * been observed. Implementations must be thread-safe and quick, and must not log the bodies or the
 * {@code Authorization} header: they carry secrets.
 */
@FunctionalInterface
public interface ExchangeObserver {

  /** One exchange; exceptions thrown here are logged and otherwise ignored. */
  void observe(RecordedExchange exchange);
}
