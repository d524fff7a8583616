package tether.config;

import java.util.List;
import java.util.Locale;

/**
 * On-the-fly compression of responses the backend did not compress, as nginx's {@code gzip} module and Caddy's
 * {@code encode} do it: {@code gzip} (level as nginx's {@code gzip_comp_level}) and {@code zstd} (Caddy's default
 * pair), for a response whose media type is in {@code types} ({@code gzip_types}; {@code type/*} and {@code *} match
 * more) and whose Content-Length is at least {@code minLength} ({@code gzip_min_length}; a response without one is
 * compressed, as nginx does). Per route, a block overrides the top level's key by key.
 */
public record CompressionConfig(boolean gzip, int level, boolean zstd, int zstdLevel, long minLength,
                                List<String> types) {

  /** Text formats browsers fetch, as nginx's usual {@code gzip_types} and Caddy's defaults list them. */
  public static final List<String> DEFAULT_TYPES = List.of("text/html", "text/css", "text/plain", "text/xml",
      "text/javascript", "text/csv", "text/markdown", "application/javascript", "application/json",
      "application/ld+json", "application/manifest+json", "application/problem+json", "application/xml",
      "application/xhtml+xml", "application/rss+xml", "application/atom+xml", "application/wasm", "image/svg+xml",
      "image/x-icon", "image/vnd.microsoft.icon", "image/bmp", "font/ttf", "font/otf");

  /** No {@code compression} key: nothing is compressed (nginx's {@code gzip off}). */
  public static final CompressionConfig OFF = new CompressionConfig(false, 5, false, 3, 1024, DEFAULT_TYPES);

  /** What a {@code compression} block starts from: gzip on at level 5, zstd off, 1024 bytes, the default types. */
  public static final CompressionConfig DEFAULTS = new CompressionConfig(true, 5, false, 3, 1024, DEFAULT_TYPES);

  public CompressionConfig {
    types = types.stream().map(t -> t.trim().toLowerCase(Locale.ROOT)).toList();
  }

  public boolean enabled() {
    return gzip || zstd;
  }

  /** {@code type/subtype}, {@code type/*} or {@code *}; else why not. */
  static String checkType(String type) {
    String t = type.trim();
    if (t.equals("*") || t.matches("[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/(\\*|[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*)")) {
      return null;
    }
    return "expected a media type like text/html, text/* or *, got \"" + type + "\"";
  }
}
