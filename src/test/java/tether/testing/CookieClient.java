package tether.testing;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One browser-like user: keeps the cookies it is given and sends them back; given several Tether instances, it
 * sends each request to the next one in turn (DNS round robin, a layer-4 balancer without affinity).
 */
public final class CookieClient {

  private final List<TetherHarness> tethers;
  private final Map<String, String> jar = new LinkedHashMap<>();
  private HttpResponse<String> last;
  private int next;
  private int lastInstance;

  public CookieClient(TetherHarness tether) {
    this(List.of(tether));
  }

  public CookieClient(List<TetherHarness> tethers) {
    this.tethers = List.copyOf(tethers);
  }

  public HttpResponse<String> get(String path) {
    lastInstance = next;
    next = (next + 1) % tethers.size();
    TetherHarness tether = tethers.get(lastInstance);
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(tether.url(path))).timeout(Duration.ofSeconds(20));
    if (!jar.isEmpty()) {
      b.header("Cookie", cookieHeader());
    }
    last = tether.send(b.build());
    last.headers().allValues("set-cookie").forEach(c -> {
      String pair = c.split(";", 2)[0];
      int eq = pair.indexOf('=');
      jar.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
    });
    return last;
  }

  public String cookieHeader() {
    return jar.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining("; "));
  }

  public Map<String, String> jar() {
    return jar;
  }

  /** Which Tether instance (index) the last request went to. */
  public int lastInstance() {
    return lastInstance;
  }

  /** The last response's X-Tether-Upstream debug header ("web2; sticky=hit"). */
  public String debug() {
    return last.headers().firstValue("x-tether-upstream").orElse("");
  }
}
