package tether.config;

/** {@code host} is an exact host name (port ignored) or {@code *}; {@code path} a prefix. */
public record RouteConfig(String host, String path, String upstream) {}
