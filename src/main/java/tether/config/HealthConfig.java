package tether.config;

import java.time.Duration;

/** Active health checks; {@code expectBody} null means any body, {@code port} 0 means the server's own port. */
public record HealthConfig(
    String path,
    String method,
    Duration interval,
    Duration timeout,
    int rise,
    int fall,
    int expectStatusMin,
    int expectStatusMax,
    String expectBody,
    String host,
    int port,
    boolean startDown) {}
