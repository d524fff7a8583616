package tether.config;

import java.util.List;

/**
 * A named group of servers with its balancing, stickiness, health and retry policy. {@code errorPages}: its own,
 * falling back to the global ones status by status.
 */
public record UpstreamConfig(
    String name,
    Balance balance,
    List<ServerConfig> servers,
    StickyConfig sticky,
    HealthConfig health,
    PassiveHealthConfig passive,
    java.time.Duration slowStart,
    int maxAttempts,
    long retryBuffer,
    int poolSize,
    boolean debugHeader,
    RetryAfterSend retryAfterSend,
    tether.edge.ErrorPages errorPages) {

  public UpstreamConfig {
    servers = List.copyOf(servers);
  }
}
