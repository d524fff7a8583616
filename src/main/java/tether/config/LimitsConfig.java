package tether.config;

/** Request and connection limits, each answered with its own status (413, 414, 431) or a refused connection. */
public record LimitsConfig(int maxHeaderBytes, long maxBodyBytes, int maxUriBytes, int maxHeaderCount,
                           int maxConnections) {}
