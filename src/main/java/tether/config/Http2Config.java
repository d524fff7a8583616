package tether.config;

import java.time.Duration;

/**
 * {@code http2}: the limits of HTTP/2 connections from clients (h2 over TLS and h2c). The header list size is
 * {@code limits.max_header_bytes}, as for HTTP/1.1.
 *
 * @param maxConcurrentStreams SETTINGS_MAX_CONCURRENT_STREAMS: open streams per connection (nginx: 128)
 * @param streamWindow         SETTINGS_INITIAL_WINDOW_SIZE, bytes: how much of one request body the client may send
 *                             before Tether has passed it on to the backend (the backpressure bound per stream)
 * @param connectionWindow     bytes: the same bound for all the streams of a connection together
 * @param maxResets            RST_STREAM frames a client may send per {@code resetWindow} before its connection is
 *                             closed with GOAWAY ENHANCE_YOUR_CALM (the rapid reset attack, CVE-2023-44487)
 */
public record Http2Config(int maxConcurrentStreams, int streamWindow, int connectionWindow, int maxResets,
                          Duration resetWindow) {

  public static final Http2Config DEFAULTS = new Http2Config(128, 65_535, 1 << 20, 200, Duration.ofSeconds(30));
}
