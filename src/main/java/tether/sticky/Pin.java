package tether.sticky;

import tether.upstream.Backend;

/**
 * What a request says about where it belongs. {@code target} is the pinned server (null when none);
 * {@code invalid} names why a pin that was sent could not be honoured (bad_signature, expired, unknown_server),
 * null otherwise; {@code hash} feeds consistent hashing (0 = none).
 */
public record Pin(Backend target, String invalid, long hash) {

  public static final Pin NONE = new Pin(null, null, 0);

  public static Pin invalid(String reason) {
    return new Pin(null, reason, 0);
  }
}
