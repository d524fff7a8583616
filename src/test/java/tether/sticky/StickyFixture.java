package tether.sticky;

import com.github.benmanes.caffeine.cache.Ticker;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import tether.config.ConfigLoader;
import tether.config.ConfigException;
import tether.config.StickyConfig;
import tether.upstream.Backend;
import tether.upstream.Upstream;
import tether.upstream.UpstreamRegistry;

/** Upstreams, requests and headers for the pure sticky tests: no sockets, and time is passed in. */
final class StickyFixture {

  static final String CLIENT = "192.0.2.7";

  private StickyFixture() {}

  /**
   * Upstream {@code app} with {@code sticky: <sticky>}; each server is a name, optionally followed by more of its
   * keys ({@code "web1, route: node1"}).
   */
  static Upstream upstream(String sticky, String... servers) {
    StringBuilder y = new StringBuilder("upstreams:\n  app:\n    servers:\n");
    for (String s : servers) {
      int comma = s.indexOf(',');
      String name = comma < 0 ? s : s.substring(0, comma);
      y.append("      - {name: ").append(name).append(", address: \"127.0.0.1:1\"")
          .append(comma < 0 ? "" : s.substring(comma)).append("}\n");
    }
    y.append("    sticky: ").append(sticky).append('\n');
    try {
      return new UpstreamRegistry().build(new ConfigLoader(n -> null).parse("t.yaml", y.toString())).get("app");
    } catch (ConfigException e) {
      throw new AssertionError(e);
    }
  }

  @SuppressWarnings("unchecked")
  static <T extends StickyConfig> T config(Upstream upstream) {
    return (T) upstream.config().sticky();
  }

  /** A request for {@code uri} from {@link #CLIENT} with headers given as name, value, name, value... */
  static StickyRequest request(String uri, String... headers) {
    MultiMap h = MultiMap.caseInsensitiveMultiMap();
    for (int i = 0; i < headers.length; i += 2) {
      h.add(headers[i], headers[i + 1]);
    }
    return new StickyRequest(h, uri, CLIENT);
  }

  /** A request for / with these Cookie headers (null: none). */
  static StickyRequest cookies(String... cookieHeaders) {
    MultiMap h = MultiMap.caseInsensitiveMultiMap();
    for (String c : cookieHeaders) {
      if (c != null) {
        h.add(HttpHeaders.COOKIE, c);
      }
    }
    return new StickyRequest(h, "/", CLIENT);
  }

  /** Response headers with these Set-Cookie values. */
  static MultiMap setCookies(String... values) {
    MultiMap h = MultiMap.caseInsensitiveMultiMap();
    for (String v : values) {
      h.add(HttpHeaders.SET_COOKIE, v);
    }
    return h;
  }

  /** The name of the server a pin names, or null. */
  static String server(Pin pin) {
    return pin.target() == null ? null : pin.target().name();
  }

  /** Down by its active checks (fall 1), as the health checker would report it. */
  static void down(Backend b) {
    b.state().observeProbe(false, "connection refused", 0, 1, 1, System.nanoTime());
  }

  /** Up again by its active checks (rise 1). */
  static void up(Backend b) {
    b.state().observeProbe(true, "ok 200", 0, 1, 1, System.nanoTime());
  }

  /** Test time: epoch seconds for the cookie's wall clock, nanoseconds for the learned tables (Caffeine's ticker). */
  static final class Clock implements Ticker, LongSupplier {
    static final long EPOCH_SECONDS = 1_700_000_000L;
    private long nanos;

    @Override
    public long read() {
      return nanos;
    }

    @Override
    public long getAsLong() {
      return EPOCH_SECONDS + TimeUnit.NANOSECONDS.toSeconds(nanos);
    }

    void advance(Duration d) {
      nanos += d.toNanos();
    }
  }
}
