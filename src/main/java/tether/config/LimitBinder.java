package tether.config;

import java.time.Duration;

/** Binds {@code routes[].rate_limit} and {@code routes[].conn_limit}; null when what was written is wrong (reported). */
final class LimitBinder {

  private LimitBinder() {}

  static RateLimitConfig rate(YamlMap m) {
    String text = m.requiredString("rate");
    long[] rate = null;
    if (text != null) {
      try {
        rate = RateLimitConfig.parseRate(text);
      } catch (IllegalArgumentException e) {
        m.error("rate", e.getMessage());
      }
    }
    int burst = m.integer("burst", 0, 0, 1_000_000);
    LimitKey key = m.scalar("key", LimitKey.IP, LimitKey::parse);
    int maxKeys = m.integer("max_keys", RateLimitConfig.DEFAULT_MAX_KEYS, 1, 100_000_000);
    m.done();
    long[] r = rate;
    return r == null ? null
        : m.build(() -> new RateLimitConfig((int) r[0], Duration.ofNanos(r[1]), burst, key, maxKeys), null);
  }

  static ConnLimitConfig conn(YamlMap m) {
    boolean given = m.has("max");
    int max = m.integer("max", 0, 1, 10_000_000);
    if (!given) {
      m.requiredString("max");
    }
    LimitKey key = m.scalar("key", LimitKey.IP, LimitKey::parse);
    m.done();
    return max < 1 ? null : m.build(() -> new ConnLimitConfig(max, key), null);
  }
}
