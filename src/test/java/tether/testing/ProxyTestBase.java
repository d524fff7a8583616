package tether.testing;

import org.junit.jupiter.api.AfterEach;

/** Real backends and a Tether in front of them, both closed after each test. */
public abstract class ProxyTestBase {

  protected final Backends backends = new Backends();
  protected TetherHarness tether;

  @AfterEach
  void closeTetherAndBackends() {
    if (tether != null) {
      tether.close();
    }
    backends.close();
  }

  /** YAML for one upstream {@code app} with these servers; {@code extra} lines go under {@code app}. */
  protected static String upstream(String extra, Backends.Backend... servers) {
    StringBuilder y = new StringBuilder("upstreams:\n  app:\n").append(extra).append("    servers:\n");
    for (Backends.Backend b : servers) {
      y.append("      - {name: ").append(b.name()).append(", address: \"").append(b.address()).append("\"}\n");
    }
    return y.toString();
  }
}
