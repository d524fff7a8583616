package tether.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code routes[].rate_limit}: nginx's {@code limit_req zone=... burst=B nodelay}. {@code requests} per {@code per}
 * ({@code rate: 5/s}, {@code 300/m}), {@code burst} requests over the rate allowed at once, excess answered 429
 * at once (never delayed); counted per {@code key}, for at most {@code maxKeys} keys at a time.
 */
public record RateLimitConfig(int requests, Duration per, int burst, LimitKey key, int maxKeys) {

  public static final int DEFAULT_MAX_KEYS = 100_000;
  private static final Pattern RATE = Pattern.compile("(\\d{1,10})\\s*r?\\s*/\\s*(s|m|h)");

  public RateLimitConfig {
    List<InvalidConfig.Problem> problems = new ArrayList<>();
    if (requests < 1 || per == null || per.isNegative() || per.isZero() || per.toNanos() / requests < 1) {
      problems.add(new InvalidConfig.Problem("rate", "expected at least 1 request per period, at most 1e9/s"));
    }
    if (burst < 0) {
      problems.add(new InvalidConfig.Problem("burst", "expected 0 or more, got " + burst));
    }
    if (maxKeys < 1) {
      problems.add(new InvalidConfig.Problem("max_keys", "expected 1 or more, got " + maxKeys));
    }
    if (key == null) {
      problems.add(new InvalidConfig.Problem("key", "missing"));
    }
    InvalidConfig.throwIfAny(problems);
  }

  /** The time one request's token takes to come back: nginx's 1/rate, GCRA's emission interval. */
  public long intervalNanos() {
    return per.toNanos() / requests;
  }

  /** How far ahead of the rate a key may run: {@code burst} intervals (GCRA's tolerance, nginx's burst). */
  public long toleranceNanos() {
    return burst * intervalNanos();
  }

  /** As written: {@code 5/s}. */
  public String rate() {
    return requests + "/" + (per.equals(Duration.ofSeconds(1)) ? "s" : per.equals(Duration.ofMinutes(1)) ? "m" : "h");
  }

  /**
   * {@code N/s}, {@code N/m} or {@code N/h} (nginx's {@code Nr/s} and {@code Nr/m} read too): [requests, unit nanos].
   *
   * @throws IllegalArgumentException with the expected form
   */
  static long[] parseRate(String text) {
    Matcher m = RATE.matcher(text.trim());
    long n = m.matches() ? Long.parseLong(m.group(1)) : 0;
    if (n < 1 || n > 1_000_000_000L) {
      throw new IllegalArgumentException("expected a rate like 10/s, 300/m or 1000/h (1 to 1e9 requests per"
          + " second, minute or hour), got \"" + text + "\"");
    }
    Duration unit = switch (m.group(2)) {
      case "s" -> Duration.ofSeconds(1);
      case "m" -> Duration.ofMinutes(1);
      default -> Duration.ofHours(1);
    };
    return new long[] {n, unit.toNanos()};
  }
}
