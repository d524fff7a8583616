package tether.config;

/** The operator listener: metrics, status and admin API. {@code token} may be null on loopback. */
public record AdminConfig(boolean enabled, String address, int port, String token) {}
