package tether.config;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the units config values are written in: durations ({@code 500ms, 2s, 1.5s, 1m30s, 1h}) and sizes
 * ({@code 64KB}).
 */
public final class Units {

  private static final String DURATION_PART = "(\\d+(?:\\.\\d+)?)(ms|h|m|s)";
  private static final Pattern DURATION = Pattern.compile("(?:" + DURATION_PART + ")+");
  private static final Pattern PART = Pattern.compile(DURATION_PART);
  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|KB|MB|GB)?", Pattern.CASE_INSENSITIVE);

  private Units() {}

  /**
   * A sequence of number-unit parts, as Go's {@code time.ParseDuration}: {@code 1m30s}, {@code 1.5s},
   * {@code 1h15m}, {@code 250ms}; units h, m, s, ms; the sum must be whole milliseconds.
   *
   * @throws IllegalArgumentException with the expected form
   */
  public static Duration duration(String text) {
    String t = text.trim();
    if (!DURATION.matcher(t).matches()) {
      throw new IllegalArgumentException("expected a duration like 500ms, 2s, 1.5s, 1m30s or 1h, got \"" + text
          + "\"");
    }
    BigDecimal millis = BigDecimal.ZERO;
    Matcher m = PART.matcher(t);
    while (m.find()) {
      long unit = switch (m.group(2)) {
        case "ms" -> 1;
        case "s" -> 1000;
        case "m" -> 60_000;
        default -> 3_600_000;
      };
      millis = millis.add(new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unit)));
    }
    if (millis.stripTrailingZeros().scale() > 0) {
      throw new IllegalArgumentException("expected whole milliseconds, got \"" + text + "\" ("
          + millis.stripTrailingZeros().toPlainString() + "ms)");
    }
    if (millis.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
      throw new IllegalArgumentException("too long: \"" + text + "\"");
    }
    return Duration.ofMillis(millis.longValue());
  }

  /** @throws IllegalArgumentException with the expected form */
  public static long size(String text) {
    Matcher m = SIZE.matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("expected a size like 16384, 64KB or 100MB, got \"" + text + "\"");
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "B" : m.group(2).toUpperCase();
    return switch (unit) {
      case "KB" -> n * 1024;
      case "MB" -> n * 1024 * 1024;
      case "GB" -> n * 1024 * 1024 * 1024;
      default -> n;
    };
  }

  public static String format(Duration d) {
    long ms = d.toMillis();
    if (ms % 3_600_000 == 0 && ms > 0) return ms / 3_600_000 + "h";
    if (ms % 60_000 == 0 && ms > 0) return ms / 60_000 + "m";
    if (ms % 1000 == 0) return ms / 1000 + "s";
    return ms + "ms";
  }
}
