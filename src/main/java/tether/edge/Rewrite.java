package tether.edge;

/**
 * The path forwarded to the backend, changed by prefix, as Caddy's {@code uri strip_prefix} and Traefik's
 * {@code StripPrefix}/{@code AddPrefix}: {@code strip_prefix} is cut from the start of the path when the path starts
 * with it (as the route's {@code path} matches: as text, not by segment), then {@code add_prefix} is put before what
 * is left. The query is kept; the path always starts with {@code /}. What the client sees (its URL, the access log)
 * is unchanged; a backend's {@code Location} headers are not rewritten back.
 */
public record Rewrite(String stripPrefix, String addPrefix) {

  /** @throws IllegalArgumentException when a prefix does not start with / */
  public Rewrite {
    stripPrefix = stripPrefix == null || stripPrefix.isEmpty() ? null : stripPrefix;
    addPrefix = addPrefix == null || addPrefix.isEmpty() || addPrefix.equals("/") ? null : addPrefix;
    if (stripPrefix != null && !stripPrefix.startsWith("/")) {
      throw new IllegalArgumentException("strip_prefix: expected a path starting with /, got \"" + stripPrefix + "\"");
    }
    if (addPrefix != null && !addPrefix.startsWith("/")) {
      throw new IllegalArgumentException("add_prefix: expected a path starting with /, got \"" + addPrefix + "\"");
    }
    if (addPrefix != null && addPrefix.endsWith("/")) {
      addPrefix = addPrefix.substring(0, addPrefix.length() - 1);
    }
  }

  /** {@code /api/users?id=1} with {@code strip_prefix: /api, add_prefix: /v2} is {@code /v2/users?id=1}. */
  public String apply(String originForm) {
    if (!originForm.startsWith("/")) {
      return originForm; // OPTIONS *
    }
    String rest = originForm;
    if (stripPrefix != null && originForm.startsWith(stripPrefix)) {
      rest = originForm.substring(stripPrefix.length());
      if (!rest.startsWith("/")) {
        rest = "/" + rest;
      }
    }
    return addPrefix == null ? rest : addPrefix + rest;
  }
}
