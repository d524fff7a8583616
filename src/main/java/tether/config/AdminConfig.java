package tether.config;

import java.util.List;

/**
 * The operator listener: metrics, status and admin API. {@code token} may be null on loopback. {@code allowedHosts}:
 * extra names (no port) the admin listener answers to in {@code Host}, besides localhost, its address and IP literals.
 */
public record AdminConfig(boolean enabled, String address, int port, String token, List<String> allowedHosts) {

  /** Envoy's admin port: 9090 is Prometheus's own, often on the same host. */
  public static final int DEFAULT_PORT = 9901;

  public AdminConfig {
    allowedHosts = allowedHosts == null ? List.of() : List.copyOf(allowedHosts);
  }

  public AdminConfig(boolean enabled, String address, int port, String token) {
    this(enabled, address, port, token, List.of());
  }
}
