package tether.config;

import java.util.List;

/** A named group of servers with its balancing, stickiness, health and retry policy. */
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
    RetryAfterSend retryAfterSend) {

  public UpstreamConfig {
    servers = List.copyOf(servers);
  }
}
