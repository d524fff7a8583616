package tether.config;

import java.time.Duration;

/** {@code listen[].hsts}: Strict-Transport-Security (RFC 6797), sent on HTTPS responses only (§7.2). */
public record Hsts(Duration maxAge, boolean includeSubdomains, boolean preload) {

  /** The header value, e.g. {@code max-age=31536000; includeSubDomains}. */
  public String headerValue() {
    return "max-age=" + maxAge.toSeconds() + (includeSubdomains ? "; includeSubDomains" : "")
        + (preload ? "; preload" : "");
  }
}
