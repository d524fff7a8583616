package tether.proxy;

/**
 * What one proxied request did, handed to every {@link ProxyListener} when it ends.
 * {@code server} is null when no backend answered; times are in nanoseconds (upstream -1 when none).
 * {@code upstreamAddresses} and {@code upstreamStatuses} list every attempt, comma-separated, as nginx's
 * {@code $upstream_addr} and {@code $upstream_status} do ({@code "10.0.0.1:80, 10.0.0.2:80"},
 * {@code "connect_failed, 200"}); null when no server was tried. {@code host} is the request's authority.
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
    String userAgent,
    String host,
    String requestId,
    String upstreamAddresses,
    String upstreamStatuses) {}
