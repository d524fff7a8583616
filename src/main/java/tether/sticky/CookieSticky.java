package tether.sticky;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import java.util.List;
import java.util.function.LongSupplier;
import tether.config.StickyConfig;
import tether.upstream.Backend;
import tether.upstream.Upstream;

/**
 * Mode {@code cookie}: Tether's own signed cookie names the server. Checked for signature, {@code max_life} and
 * {@code max_idle} on wall-clock seconds; re-issued for the server that actually served whenever that differs
 * from the pin, and refreshed while the user keeps coming (so max_idle slides). Never forwarded to the backend.
 */
final class CookieSticky implements StickySession {

  private final StickyConfig.Cookie config;
  private final SignedCookie signer;
  private final long maxIdle;
  private final long maxLife;
  private final long refreshAfter;
  private final String prefix;
  /** What follows the value in Set-Cookie: [0] on plain HTTP, [1] on HTTPS. */
  private final String[] suffix = new String[2];
  private final LongSupplier epochSeconds;
  /** Set-Cookie lines issued recently (direct-mapped by value; shared by the event loops: a race is a miss). */
  private final Issued[] issued = new Issued[64];

  /** One Set-Cookie line: the signer hands out one String per value (a pin's, within a second), matched by identity. */
  private record Issued(String value, boolean https, String line) {}

  CookieSticky(StickyConfig.Cookie config) {
    this(config, () -> System.currentTimeMillis() / 1000);
  }

  /** @param epochSeconds the wall clock the cookie's times are on */
  CookieSticky(StickyConfig.Cookie config, LongSupplier epochSeconds) {
    this.config = config;
    this.epochSeconds = epochSeconds;
    this.signer = new SignedCookie(config.secrets());
    this.maxIdle = config.maxIdle() == null ? 0 : config.maxIdle().toSeconds();
    this.maxLife = config.maxLife() == null ? 0 : config.maxLife().toSeconds();
    this.refreshAfter = maxIdle > 0 ? Math.max(1, maxIdle / 4) : 0;
    StringBuilder attrs = new StringBuilder("; Path=/; HttpOnly");
    if (config.domain() != null) {
      attrs.append("; Domain=").append(config.domain());
    }
    if (config.maxAge() != null) {
      attrs.append("; Max-Age=").append(config.maxAge().toSeconds());
    }
    this.prefix = config.cookie() + "=";
    this.suffix[0] = attrs + securityAttributes(false);
    this.suffix[1] = attrs + securityAttributes(true);
  }

  @Override
  public Pin resolve(StickyRequest request, Upstream upstream) {
    List<String> values = Cookies.values(request.headers(), config.cookie());
    if (values.isEmpty()) {
      return Pin.NONE;
    }
    String firstProblem = null;
    long now = epochSeconds.getAsLong();
    for (String value : values) { // a duplicated cookie: the first valid one wins
      try {
        SignedCookie.Value v = signer.decode(value);
        if ((maxLife > 0 && now - v.issuedAt() > maxLife) || (maxIdle > 0 && now - v.lastSeen() > maxIdle)) {
          throw new SignedCookie.Invalid("expired");
        }
        Backend target = upstream.byName(v.server());
        if (target == null) {
          throw new SignedCookie.Invalid("unknown_server");
        }
        return new CookiePin(target, v.issuedAt(), v.lastSeen(), value);
      } catch (SignedCookie.Invalid e) {
        firstProblem = firstProblem == null ? e.getMessage() : firstProblem;
      }
    }
    return Pin.invalid(firstProblem);
  }

  @Override
  public void onResponse(Pin pin, Backend servedBy, MultiMap upstreamHeaders, MultiMap responseHeaders,
                         boolean https) {
    long now = epochSeconds.getAsLong();
    long issuedAt = now;
    if (pin instanceof CookiePin c && pin.target() == servedBy) {
      if (refreshAfter == 0 || now - c.lastSeen < refreshAfter) {
        return; // still fresh: no Set-Cookie on every response
      }
      issuedAt = c.issuedAt;
    }
    // (SignedCookie caches the signed value per event loop, and this the line around it)
    responseHeaders.add(HttpHeaders.SET_COOKIE, setCookie(signer.encode(servedBy.name(), issuedAt, now), https));
  }

  private String setCookie(String value, boolean https) {
    int slot = value.hashCode() & (issued.length - 1);
    Issued recent = issued[slot];
    if (recent != null && recent.value == value && recent.https == https) {
      return recent.line;
    }
    String line = prefix + value + suffix[https ? 1 : 0];
    issued[slot] = new Issued(value, https, line);
    return line;
  }

  private String securityAttributes(boolean https) {
    boolean secure = switch (config.secure()) {
      case ALWAYS -> true;
      case NEVER -> false;
      case AUTO -> https;
    };
    if (!secure) {
      // browsers drop SameSite=None without Secure
      boolean none = config.sameSite() == StickyConfig.SameSite.NONE;
      return "; SameSite=" + (none ? "Lax" : config.sameSite().attribute());
    }
    return "; Secure; SameSite=" + config.sameSite().attribute();
  }

  @Override
  public String ownCookie() {
    return config.cookie();
  }

  /** A valid cookie's pin, with its times for the refresh decision. */
  private static final class CookiePin extends Pin {
    final long issuedAt;
    final long lastSeen;
    final String value;

    CookiePin(Backend target, long issuedAt, long lastSeen, String value) {
      super(target, null, 0);
      this.issuedAt = issuedAt;
      this.lastSeen = lastSeen;
      this.value = value;
    }

    @Override
    public String userKey() {
      return value;
    }
  }
}
