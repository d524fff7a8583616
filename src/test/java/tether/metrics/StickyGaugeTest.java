package tether.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import tether.testing.Backends;
import tether.testing.PrometheusText;
import tether.testing.ProxyTestBase;
import tether.testing.TetherHarness;

/** Gauges read through suppliers must survive garbage collection (a weakly held one reads NaN). */
class StickyGaugeTest extends ProxyTestBase {

  @Test
  void learnedEntriesAreCountedAfterAGarbageCollection() {
    Backends.Backend app = backends.start("app", req -> req.response()
        .putHeader("Set-Cookie", "PHPSESSID=s" + req.getHeader("X-User") + "; Path=/").end("ok"));
    tether = TetherHarness.start("admin: {address: 127.0.0.1, port: 0}\n"
        + upstream("    sticky: {mode: learn, cookie: PHPSESSID}\n", app));
    for (int i = 0; i < 3; i++) {
      tether.get("/", "X-User", "u" + i);
    }
    System.gc();
    System.gc();
    Double entries = PrometheusText.parse(tether.admin("GET", "/metrics").body())
        .get("tether_sticky_learned_entries{upstream=\"app\"}");
    assertThat(entries).isEqualTo(3.0);
  }
}
