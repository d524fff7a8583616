package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tether.config.ConfigLoader;
import tether.config.TetherConfig;
import tether.upstream.Backend;
import tether.upstream.UpstreamRegistry;

/**
 * A failed attempt on a server named by host name counts for its passive health only if the name still resolves to
 * the address the attempt dialled: a connect failure at the old address (a container recreated elsewhere), reported
 * after the resolver moved the server, must not eject it at the new one. The listeners hear of every failure.
 */
class StaleAddressFailureTest {

  private static Backend web1() throws Exception {
    TetherConfig c = new ConfigLoader(n -> null).parse("t.yaml", """
        upstreams:
          app:
            servers:
              - {name: web1, address: "web1:8080"}
            passive: {max_fails: 1, fail_window: 0s, eject_for: 30s}
        """);
    return new UpstreamRegistry().build(c).get("app").byName("web1");
  }

  /** {@code ips}: IP literals separated by spaces, or "none" for a lookup that failed. */
  private static void answer(Backend b, String ips) {
    if (ips.equals("none")) {
      b.resolved().failed("NXDOMAIN");
    } else {
      b.resolved().resolvedTo(Arrays.asList(ips.split(" ")));
    }
  }

  @ParameterizedTest(name = "dialled {0}, resolves to {1} when it fails -> ejected {2}")
  @CsvSource(delimiter = '|', value = {
      "127.0.0.1 | 127.0.0.1           | true",
      "127.0.0.1 | 127.0.0.2           | false", // moved: the old address's failure
      "127.0.0.1 | 127.0.0.2 127.0.0.1 | true",  // a rotated answer that still holds the address: not moved
      "none      | none                | true",  // never resolved: fails as a connect failure, counted
      "none      | 127.0.0.2           | false", // resolved since
      "127.0.0.1 | none                | false", // the name went away: the next attempt fails and counts
  })
  void countsOnlyAFailureAtTheAddressTheServerHasNow(String dialled, String now, boolean ejected) throws Exception {
    Backend b = web1();
    answer(b, dialled);
    Attempt a = new Attempt(b, false);
    answer(b, now);
    List<String> heard = new ArrayList<>();
    FailedAttempt.blame(a, Failover.Kind.CONNECT_REFUSED, new ProxyListener() {
      @Override
      public void backendFailed(Backend backend, String reason) {
        heard.add(backend.name() + " " + reason);
      }
    });
    assertThat(b.state().ejected(System.nanoTime())).isEqualTo(ejected);
    assertThat(heard).containsExactly("web1 connect_failed");
  }
}
