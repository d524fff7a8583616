package tether.config;

/**
 * One line per request through the "tether.access" logger: to standard output, or appended to {@code path}
 * when set; {@code enabled false} turns it off.
 */
public record AccessLogConfig(boolean enabled, Format format, String path) {
  public enum Format { TEXT, JSON }
}
