package tether.config;

import tether.edge.RouteRules;

/**
 * {@code host} is an exact host name (port ignored) or {@code *}; {@code path} a prefix. {@code upstream} is null on
 * a redirect route; {@code rules} (redirect, rewrite, header rules) is null on a route without any.
 */
public record RouteConfig(String host, String path, String upstream, RouteRules rules) {

  public RouteConfig(String host, String path, String upstream) {
    this(host, path, upstream, null);
  }
}
