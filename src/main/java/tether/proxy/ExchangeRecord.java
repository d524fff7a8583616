package tether.proxy;

/**
 * What one proxied request did, handed to every {@link ProxyListener} when it ends.
 * {@code server} is null when no backend answered; times are in nanoseconds (upstream -1 when none).
 */
public record ExchangeRecord(
    String clientAddress,
    String method,
    String uri,
    String protocol,
    int status,
    long bytesSent,
    long bytesReceived,
    String upstream,
    String server,
    long upstreamNanos,
    long totalNanos,
    String sticky,
    int attempts,
    boolean truncated,
    String referer,
    String userAgent) {}
