package tether.config;

/** Access log lines go to standard output through the "tether.access" logger; {@code enabled false} turns it off. */
public record AccessLogConfig(boolean enabled, Format format) {
  public enum Format { TEXT, JSON }
}
