package tether.edge;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Set;

/**
 * A route that answers every request with a redirect, as nginx's {@code return 301 https://example.com$request_uri}
 * and Caddy's {@code redir}: {@code to} without a path ({@code https://example.com}) keeps the request's path and
 * query; {@code to} with a path ({@code https://example.com/moved}, or {@code /moved} on the same host) is the
 * {@code Location} as written. The status defaults to 302 (Caddy's {@code redir}): a permanent 301/308 is cached
 * by browsers for good, so it is written on purpose.
 */
public record Redirect(int status, String to, boolean keepsUri) {

  public static final int DEFAULT_STATUS = 302;
  private static final Set<Integer> STATUSES = Set.of(301, 302, 303, 307, 308);

  /** @throws IllegalArgumentException for a status that is not a redirect, or a target that is not a URL */
  public Redirect {
    if (!STATUSES.contains(status)) {
      throw new IllegalArgumentException("status: expected one of 301, 302, 303, 307, 308, got " + status);
    }
  }

  /** @throws IllegalArgumentException naming what is wrong with {@code to} */
  public static Redirect of(int status, String to) {
    return new Redirect(status, to, keepsUri(to));
  }

  private static boolean keepsUri(String to) {
    String expected = " (expected: an absolute http(s) URL such as https://example.com, or a path starting with /)";
    if (to.isEmpty() || to.chars().anyMatch(c -> c <= ' ' || c == 0x7f)) {
      throw new IllegalArgumentException("to: \"" + to + "\" is empty or holds spaces or control characters"
          + expected);
    }
    if (to.startsWith("/") && !to.startsWith("//")) {
      return false;
    }
    URI uri;
    try {
      uri = new URI(to);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("to: \"" + to + "\" is not a URL: " + e.getReason() + expected);
    }
    if (!("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()))
        || uri.getRawAuthority() == null || uri.getHost() == null) {
      throw new IllegalArgumentException("to: \"" + to + "\" is not an absolute http(s) URL" + expected);
    }
    return uri.getRawPath().isEmpty() && uri.getRawQuery() == null && uri.getRawFragment() == null;
  }

  /** The {@code Location} for a request whose target, in origin form, is {@code originForm} ({@code /a?b=c}). */
  public String location(String originForm) {
    return keepsUri && originForm.startsWith("/") ? to + originForm : to;
  }
}
