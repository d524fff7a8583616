package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import tether.testing.Backends;
import tether.testing.ProxyTestBase;
import tether.testing.RawHttp;
import tether.testing.TetherHarness;

/** A backend that goes silent mid-body is cut after timeouts.response_header; one that keeps talking is not. */
class SilenceTimeoutTest extends ProxyTestBase {

  @Test
  void aBodyThatFallsSilentIsCutAndOneThatTricklesIsNot() throws Exception {
    Backends.Backend a = backends.start("a", req -> {
      req.response().setChunked(true).write("first part ");
      if (req.path().equals("/trickle")) { // a chunk every 400 ms, for 2 s: never 1 s of silence
        long[] left = {5};
        backends.vertx().setPeriodic(400, id -> {
          if (--left[0] == 0) {
            backends.vertx().cancelTimer(id);
            req.response().end("end");
          } else {
            req.response().write("more ");
          }
        });
      } // else: nothing more, ever
    });
    tether = TetherHarness.start("timeouts: {response_header: 1s}\n" + upstream("    max_attempts: 1\n", a));
    try (RawHttp client = new RawHttp(tether.port())) {
      long start = System.nanoTime();
      RawHttp.Read read = client.send("GET /silent HTTP/1.1\r\nHost: x\r\n\r\n").readUntilCloseOrQuiet(5000);
      assertThat(read.closed()).as("truncated: the connection is closed").isTrue();
      assertThat(read.text()).contains("first part").doesNotContain("\r\n0\r\n\r\n");
      assertThat((System.nanoTime() - start) / 1_000_000).isBetween(900L, 3000L);
    }
    try (RawHttp client = new RawHttp(tether.port())) {
      String body = client.send("GET /trickle HTTP/1.1\r\nHost: x\r\n\r\n").readUntil("0\r\n\r\n", 5000);
      assertThat(body).contains("first part").contains("more").contains("end");
    }
  }
}
