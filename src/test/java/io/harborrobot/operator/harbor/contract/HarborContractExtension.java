package io.harborrobot.operator.harbor.contract;

import io.harborrobot.operator.sandbox.ExchangeObserver;
import io.harborrobot.operator.sandbox.HarborEmulator;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;

/**
 * Puts every test class (surefire's {@code *Test} and failsafe's {@code *IT} alike) under the
 * {@link HarborContract}: registered for the whole suite through {@code
 * META-INF/services/org.junit.jupiter.api.extension.Extension} and {@code
 * junit.jupiter.extensions.autodetection.enabled=true} in {@code junit-platform.properties}.
 *
 * <p>Before the class (and before its own {@code @BeforeAll}), every Harbor emulator started from
 * then on is observed by a fresh contract; after the class (after its {@code @AfterAll}) the
 * previous default observer is restored and the class fails if any exchange broke Harbor's swagger.
 * Nested classes get their own contract in the same way.
 */
public final class HarborContractExtension implements BeforeAllCallback, AfterAllCallback {

  private static final Namespace NAMESPACE = Namespace.create(HarborContractExtension.class);
  private static final String CONTRACT = "contract";
  private static final String PREVIOUS = "previous";

  @Override
  public void beforeAll(ExtensionContext context) {
    HarborContract contract = new HarborContract(context.getRequiredTestClass().getName());
    ExtensionContext.Store store = context.getStore(NAMESPACE);
    store.put(CONTRACT, contract);
    store.put(PREVIOUS, new Previous(HarborEmulator.defaultExchangeObserver()));
    HarborEmulator.setDefaultExchangeObserver(contract);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    ExtensionContext.Store store = context.getStore(NAMESPACE);
    HarborContract contract = store.remove(CONTRACT, HarborContract.class);
    Previous previous = store.remove(PREVIOUS, Previous.class);
    if (previous != null) {
      HarborEmulator.setDefaultExchangeObserver(previous.observer());
    }
    if (contract == null) {
      return;
    }
    contract.close();
    List<HarborContract.Violation> violations = contract.takeViolations();
    if (!violations.isEmpty()) {
      throw new AssertionError(
          violations.size()
              + " exchange(s) with the Harbor emulator in "
              + context.getRequiredTestClass().getName()
              + " broke Harbor's swagger ("
              + HarborContract.swaggerPath()
              + "; allowed departures: HarborContract.DEPARTURES,"
              + " docs/harbor-compatibility.md):\n  "
              + violations.stream().map(Object::toString).collect(Collectors.joining("\n  ")));
    }
  }

  /** The default observer before this class, which may be null. */
  private record Previous(ExchangeObserver observer) {}
}
