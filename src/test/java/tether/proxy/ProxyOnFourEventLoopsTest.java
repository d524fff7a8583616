package tether.proxy;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import tether.testing.TetherHarness;

/** {@link ProxyTest} again with four event loops: each has its own listener and pools, so state must not be per loop. */
class ProxyOnFourEventLoopsTest extends ProxyTest {

  @BeforeAll
  static void fourLoops() {
    TetherHarness.defaultWorkers = 4;
  }

  @AfterAll
  static void oneLoop() {
    TetherHarness.defaultWorkers = 1;
  }
}
