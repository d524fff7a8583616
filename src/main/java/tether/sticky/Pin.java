package tether.sticky;

import tether.upstream.Backend;

/**
 * What a request says about where it belongs. {@code target} is the pinned server (null when none);
 * {@code invalid} names why a pin that was sent could not be honoured (bad_signature, expired, unknown_server),
 * null otherwise; {@code hash} feeds consistent hashing (0 = none). Modes may extend it with their own details.
 */
public class Pin {

  public static final Pin NONE = new Pin(null, null, 0);

  private final Backend target;
  private final String invalid;
  private final long hash;

  public Pin(Backend target, String invalid, long hash) {
    this.target = target;
    this.invalid = invalid;
    this.hash = hash;
  }

  public static Pin invalid(String reason) {
    return new Pin(null, reason, 0);
  }

  public Backend target() {
    return target;
  }

  public String invalid() {
    return invalid;
  }

  public long hash() {
    return hash;
  }

  /** What identifies this user's pin, for counting distinct pinned users (null when nothing does). */
  public String userKey() {
    return null;
  }
}
