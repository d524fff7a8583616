package tether.compression;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The client's Accept-Encoding (RFC 9110 §12.5.3), read for one coding at a time: its own q-value, else that of
 * {@code *}, else not acceptable. {@code gzip;q=0} refuses gzip even under {@code *}; {@code x-gzip} is gzip.
 */
final class AcceptEncoding {

  private static final Pattern QVALUE = Pattern.compile("0(\\.\\d{0,3})?|1(\\.0{0,3})?");

  private AcceptEncoding() {}

  /** The q-value (0 to 1) {@code header} gives {@code coding}; 0 when absent or not acceptable. */
  static double quality(String header, Coding coding) {
    if (header == null) {
      return 0;
    }
    double star = 0;
    for (String item : header.split(",")) {
      int semi = item.indexOf(';');
      String name = (semi < 0 ? item : item.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
      if (name.isEmpty()) {
        continue;
      }
      double q = semi < 0 ? 1 : q(item.substring(semi + 1));
      if (name.equals(coding.token) || (coding == Coding.GZIP && name.equals("x-gzip"))) {
        return q;
      }
      if (name.equals("*")) {
        star = q;
      }
    }
    return star;
  }

  /** The {@code q} parameter among {@code params}; a malformed one counts as 0 (not acceptable). */
  private static double q(String params) {
    for (String p : params.split(";")) {
      String t = p.trim();
      if (t.length() >= 2 && (t.charAt(0) == 'q' || t.charAt(0) == 'Q') && t.charAt(1) == '=') {
        String v = t.substring(2).trim();
        if (!QVALUE.matcher(v).matches()) {
          return 0;
        }
        return Double.parseDouble(v);
      }
    }
    return 1;
  }
}
