package tether.edge;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * The HTML bodies Tether answers with for its own 502, 503 and 504, read from files when the configuration is loaded
 * (never per request), as nginx's {@code error_page} and HAProxy's {@code errorfile}. A page goes only to clients
 * that accept {@code text/html} (browsers); anything else (curl's {@code *}{@code /*}, API clients) keeps the short
 * plain text, so a JSON client never has to parse a web page. An upstream's pages override the global ones status by
 * status.
 */
public final class ErrorPages {

  /** The statuses a page can be given for: the ones Tether itself answers when the backends fail it. */
  public static final int[] STATUSES = {502, 503, 504};
  public static final ErrorPages NONE = new ErrorPages(new TreeMap<>());

  /** One page: where it was read from (for {@code tether check}) and its bytes. */
  public record Page(String file, byte[] html) {
    public Page {
      html = html.clone();
    }

    @Override
    public byte[] html() {
      return html.clone();
    }
  }

  private final TreeMap<Integer, Page> pages;
  private final byte[][] byStatus = new byte[STATUSES.length][];

  private ErrorPages(TreeMap<Integer, Page> pages) {
    this.pages = pages;
    for (int i = 0; i < STATUSES.length; i++) {
      Page p = pages.get(STATUSES[i]);
      byStatus[i] = p == null ? null : p.html;
    }
  }

  /** @throws IllegalArgumentException for a status other than 502, 503, 504 */
  public static ErrorPages of(Map<Integer, Page> pages) {
    for (int status : pages.keySet()) {
      if (Arrays.stream(STATUSES).noneMatch(s -> s == status)) {
        throw new IllegalArgumentException("no page for " + status + " (expected: 502, 503, 504)");
      }
    }
    return pages.isEmpty() ? NONE : new ErrorPages(new TreeMap<>(pages));
  }

  /** These pages, and {@code fallback}'s for the statuses these have none for. */
  public ErrorPages withFallback(ErrorPages fallback) {
    if (fallback.pages.isEmpty()) {
      return this;
    }
    TreeMap<Integer, Page> merged = new TreeMap<>(fallback.pages);
    merged.putAll(pages);
    return new ErrorPages(merged);
  }

  public boolean isEmpty() {
    return pages.isEmpty();
  }

  /** The page for {@code status}, shared: never written to. Null when there is none. */
  public byte[] html(int status) {
    for (int i = 0; i < STATUSES.length; i++) {
      if (STATUSES[i] == status) {
        return byStatus[i];
      }
    }
    return null;
  }

  /** Status -> file, for {@code tether check}. */
  public Map<Integer, String> files() {
    Map<Integer, String> out = new TreeMap<>();
    pages.forEach((status, page) -> out.put(status, page.file()));
    return out;
  }

  /**
   * True when {@code accept} lists {@code text/html} (or XHTML) with a q above 0: what browsers send for a page.
   * {@code *}{@code /*} alone does not count, so curl and API clients get plain text.
   */
  public static boolean wantsHtml(String accept) {
    if (accept == null) {
      return false;
    }
    int start = 0;
    while (start < accept.length()) {
      int comma = accept.indexOf(',', start);
      int end = comma < 0 ? accept.length() : comma;
      String range = accept.substring(start, end);
      int semi = range.indexOf(';');
      String type = (semi < 0 ? range : range.substring(0, semi)).trim();
      if ((type.equalsIgnoreCase("text/html") || type.equalsIgnoreCase("application/xhtml+xml"))
          && (semi < 0 || !zeroQ(range.substring(semi + 1)))) {
        return true;
      }
      start = end + 1;
    }
    return false;
  }

  private static boolean zeroQ(String params) {
    for (String p : params.split(";")) {
      String t = p.trim();
      if (t.regionMatches(true, 0, "q=", 0, 2)) {
        try {
          return Double.parseDouble(t.substring(2).trim()) <= 0;
        } catch (NumberFormatException e) {
          return false;
        }
      }
    }
    return false;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ErrorPages other && other.files().equals(files())
        && Arrays.stream(STATUSES).allMatch(s -> Arrays.equals(html(s), other.html(s)));
  }

  @Override
  public int hashCode() {
    return files().hashCode();
  }
}
