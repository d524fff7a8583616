package tether.config;

import java.time.Duration;

/**
 * {@code connect}: to open a backend connection; {@code responseHeader}: from sending the request to the backend's
 * response head, and the longest silence while its body streams; {@code idle}: an unused keep-alive connection;
 * {@code header}: a new client connection must deliver its request head within it (slowloris); {@code body}: the
 * longest silence while a client sends a request body; {@code upstreamKeepalive}: how long a pooled backend
 * connection may idle before it is retired (whole seconds; kept below the backend's own keep-alive timeout, Apache's
 * is 5 s, so Tether never reuses a connection the backend is closing); {@code tunnelIdle}: the longest silence, both
 * ways, of a tunnel (a WebSocket after its 101), HAProxy's {@code timeout tunnel}.
 */
public record TimeoutsConfig(Duration connect, Duration responseHeader, Duration idle, Duration header,
                             Duration body, Duration upstreamKeepalive, Duration tunnelIdle) {}
