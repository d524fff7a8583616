package tether.limits;

import io.netty.util.NetUtil;
import io.vertx.core.MultiMap;
import tether.sticky.Cookies;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import tether.config.LimitKey;
import tether.config.TrustedProxies;

/**
 * A request's value of a {@link LimitKey}, as nginx's {@code limit_req_zone $key}: null when the header or cookie
 * is absent or empty (nginx does not account such requests). The client address is nginx's realip module with
 * {@code real_ip_recursive on}: from a trusted proxy, the rightmost {@code X-Forwarded-For} address that is not
 * itself a trusted proxy (the first address no trusted hop vouches for); from anyone else, the socket's address.
 * Values longer than {@link #MAX_PLAIN} characters are kept as their SHA-256, so a table entry stays small.
 */
final class LimitKeys {

  static final int MAX_PLAIN = 64;
  private static final String XFF = "X-Forwarded-For";

  private LimitKeys() {}

  static String read(LimitKey key, MultiMap headers, String peer, TrustedProxies trusted) {
    String value = switch (key.kind()) {
      case IP -> clientAddress(peer, headers, trusted);
      case HEADER -> headers.get(key.name());
      case COOKIE -> cookie(headers, key.name());
    };
    if (value == null || value.isEmpty()) {
      return null;
    }
    return value.length() <= MAX_PLAIN ? value : digest(value);
  }

  static String clientAddress(String peer, MultiMap headers, TrustedProxies trusted) {
    if (!trusted.trusts(peer)) {
      return peer;
    }
    List<String> lines = headers.getAll(XFF);
    String chain = lines.size() == 1 ? lines.get(0) : String.join(",", lines);
    String leftmost = null;
    int end = chain.length();
    while (end > 0) {
      int comma = chain.lastIndexOf(',', end - 1);
      String hop = chain.substring(comma + 1, end).trim();
      end = comma < 0 ? 0 : comma;
      if (hop.isEmpty()) {
        continue;
      }
      // only a literal reaches trusts(): a name there would be a DNS lookup on the event loop
      if (!(NetUtil.isValidIpV4Address(hop) || NetUtil.isValidIpV6Address(hop)) || !trusted.trusts(hop)) {
        return hop;
      }
      leftmost = hop;
    }
    return leftmost != null ? leftmost : peer; // every hop trusted: the farthest one is the client
  }

  /** The first value of cookie {@code name} in the Cookie headers, as stickiness reads it. */
  static String cookie(MultiMap headers, String name) {
    return Cookies.first(headers, name);
  }

  private static String digest(String value) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
      return "#" + Base64.getEncoder().withoutPadding().encodeToString(hash);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e); // every JRE has SHA-256
    }
  }
}
