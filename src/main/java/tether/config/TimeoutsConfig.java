package tether.config;

import java.time.Duration;

/**
 * {@code connect}: to open a backend connection; {@code responseHeader}: from sending the request to the backend's
 * response head, and the longest silence while its body streams; {@code idle}: an unused keep-alive connection.
 */
public record TimeoutsConfig(Duration connect, Duration responseHeader, Duration idle) {}
