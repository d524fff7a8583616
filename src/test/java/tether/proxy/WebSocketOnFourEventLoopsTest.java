package tether.proxy;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import tether.testing.TetherHarness;

/** {@link WebSocketTest} again with four event loops: a tunnel's two sockets and its counters span none of them. */
class WebSocketOnFourEventLoopsTest extends WebSocketTest {

  @BeforeAll
  static void fourLoops() {
    TetherHarness.defaultWorkers = 4;
  }

  @AfterAll
  static void oneLoop() {
    TetherHarness.defaultWorkers = 1;
  }
}
