package tether.admin;

import io.vertx.core.http.HttpMethod;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Keeps web pages the operator happens to open from driving the admin listener through their browser. Pure: it sees
 * the method and three headers, never a socket.
 *
 * <p>Every request: the {@code Host} name must be one of the listener's own (stops DNS rebinding, as Django's
 * {@code ALLOWED_HOSTS}): {@code localhost}, the configured address, {@code admin.allowed_hosts}, or any IP literal
 * (a rebinding attack needs a DNS name, so an IP in {@code Host} is never one). No {@code Host} (HTTP/1.0 tools)
 * passes; browsers always send it.
 *
 * <p>Unsafe methods (RFC 9110 section 9.2.1, i.e. every POST) also need, in this order, as Go's
 * {@code http.CrossOriginProtection} and Django's CSRF origin check: {@code Sec-Fetch-Site} absent or
 * {@code same-origin}/{@code none}; {@code Origin} absent or {@code http(s)://} plus exactly the {@code Host} header.
 * Comparing with {@code Host} rather than the bound port keeps the status page working behind a port mapping; on a
 * direct connection {@code Host} carries the listener's actual port. curl sends neither header and passes; the status
 * page's own {@code fetch} sends {@code same-origin} and its own origin and passes. Grafana answers such a write the
 * same way ("origin not allowed" unless Origin matches Host); Prometheus takes {@code /-/reload} only as POST or PUT.
 */
final class CrossSiteGuard {

  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
  private static final Pattern IPV6 = Pattern.compile("\\[[0-9a-f:.]+(%25[0-9a-z]+)?]");

  /** {@code reason} is null when allowed, else a short sentence for the 403 body and the log. */
  record Verdict(boolean allowed, String reason) {
    static final Verdict ALLOW = new Verdict(true, null);

    static Verdict refuse(String reason) {
      return new Verdict(false, reason);
    }
  }

  private final Set<String> names;

  /** {@code address}: the admin listener's configured bind address; {@code allowedHosts}: extra names, no port. */
  CrossSiteGuard(String address, Collection<String> allowedHosts) {
    names = new LinkedHashSet<>();
    names.add("localhost");
    if (address != null && !address.equals("0.0.0.0") && !address.equals("::")) {
      names.add(hostName(address.contains(":") && !address.startsWith("[") ? "[" + address + "]" : address));
    }
    for (String h : allowedHosts) {
      names.add(hostName(h));
    }
  }

  /** Any header may be null (absent). */
  Verdict check(HttpMethod method, String host, String origin, String fetchSite) {
    if (!isSafe(method)) {
      if (fetchSite != null && !fetchSite.equalsIgnoreCase("same-origin") && !fetchSite.equalsIgnoreCase("none")) {
        return Verdict.refuse("cross-site request refused: Sec-Fetch-Site is " + fetchSite);
      }
      if (origin != null && (host == null || !(origin.equalsIgnoreCase("http://" + host)
          || origin.equalsIgnoreCase("https://" + host)))) {
        return Verdict.refuse("cross-site request refused: Origin " + origin + " is not this admin listener"
            + (host == null ? "" : " (http://" + host + ")"));
      }
    }
    if (host != null && !allowedHost(host)) {
      return Verdict.refuse("Host " + hostName(host) + " is not a name of this admin listener"
          + " (possible DNS rebinding): add it to admin.allowed_hosts to reach the admin API by that name");
    }
    return Verdict.ALLOW;
  }

  private boolean allowedHost(String host) {
    String name = hostName(host);
    return names.contains(name) || IPV4.matcher(name).matches() || IPV6.matcher(name).matches();
  }

  /** {@code Host} without its port, lower case: {@code [::1]:9090} -> {@code [::1]}. */
  static String hostName(String host) {
    String h = host.trim().toLowerCase(Locale.ROOT);
    int end = h.startsWith("[") ? h.indexOf(']') + 1 : h.indexOf(':');
    return end <= 0 ? h : h.substring(0, end);
  }

  static boolean isSafe(HttpMethod method) {
    return method == HttpMethod.GET || method == HttpMethod.HEAD || method == HttpMethod.OPTIONS
        || method == HttpMethod.TRACE;
  }
}
