package tether.config;

/**
 * {@code host} is an exact host name (port ignored) or {@code *}; {@code path} a prefix. {@code compression} is the
 * top level's with the route's own block over it.
 */
public record RouteConfig(String host, String path, String upstream, CompressionConfig compression) {

  /** A route that compresses nothing. */
  public RouteConfig(String host, String path, String upstream) {
    this(host, path, upstream, CompressionConfig.OFF);
  }
}
