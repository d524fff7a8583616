package tether.testing;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs a test class's Tethers on four event loops ({@code @ExtendWith(OnFourEventLoops.class)} on a subclass of
 * a suite): each loop has its own listener and backend pools, so nothing may depend on there being one.
 */
public final class OnFourEventLoops implements BeforeAllCallback, AfterAllCallback {

  @Override
  public void beforeAll(ExtensionContext context) {
    TetherHarness.defaultWorkers = 4;
  }

  @Override
  public void afterAll(ExtensionContext context) {
    TetherHarness.defaultWorkers = 1;
  }
}
