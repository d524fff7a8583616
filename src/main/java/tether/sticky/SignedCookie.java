package tether.sticky;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Tether's opaque cookie value: {@code server.issuedAt.lastSeen.keyId.mac}, server base64url-encoded, times in
 * epoch seconds (base 36), mac = HMAC-SHA256 (first 16 bytes) over the rest. Signed with the first key, accepted
 * with any configured key (rotation); the key id is a fingerprint, so reordering keys breaks nothing. Stateless:
 * every instance with the same keys accepts every other's cookies.
 *
 * <p>HMAC once per distinct value, not per request: each event loop keeps the values it verified and the cookies it
 * issued recently (direct-mapped, {@value #RECENT_SLOTS} slots; a value is the same string for every request of
 * one pin within a second). A cached value is matched in constant time; refused values are never cached.
 */
final class SignedCookie {

  /** A verified cookie. */
  record Value(String server, long issuedAt, long lastSeen) {}

  /** Why a cookie was refused: the re-pin reason. */
  static final class Invalid extends Exception {
    Invalid(String reason) {
      super(reason, null, false, false);
    }
  }

  private static final int MAX_LENGTH = 256;
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();

  private final String signingKeyId;
  private final Map<String, byte[]> keys = new HashMap<>();
  private final ThreadLocal<Recent> recent = ThreadLocal.withInitial(Recent::new);

  static final int RECENT_SLOTS = 1024;

  /** One event loop's MACs by key id, and its recently verified and issued values (slot = hash of the key). */
  private static final class Recent {
    final Map<String, Mac> macs = new HashMap<>();
    final String[] verifiedValues = new String[RECENT_SLOTS];
    final Value[] verified = new Value[RECENT_SLOTS];
    final Value[] issuedFor = new Value[RECENT_SLOTS];
    final String[] issued = new String[RECENT_SLOTS];
  }

  SignedCookie(List<String> secrets) {
    String first = null;
    for (String secret : secrets) {
      byte[] key = secret.getBytes(StandardCharsets.UTF_8);
      String id = keyId(key);
      keys.putIfAbsent(id, key);
      if (first == null) {
        first = id;
      }
    }
    signingKeyId = first;
  }

  String encode(String server, long issuedAt, long lastSeen) {
    Recent r = recent.get();
    int slot = ((server.hashCode() * 31 + Long.hashCode(issuedAt)) * 31 + Long.hashCode(lastSeen)) & (RECENT_SLOTS - 1);
    Value cached = r.issuedFor[slot];
    if (cached != null && cached.issuedAt() == issuedAt && cached.lastSeen() == lastSeen
        && cached.server().equals(server)) {
      return r.issued[slot];
    }
    String encoded = sign(server, issuedAt, lastSeen);
    r.issuedFor[slot] = new Value(server, issuedAt, lastSeen);
    r.issued[slot] = encoded;
    return encoded;
  }

  private String sign(String server, long issuedAt, long lastSeen) {
    String body = B64.encodeToString(server.getBytes(StandardCharsets.UTF_8)) + "." + Long.toString(issuedAt, 36)
        + "." + Long.toString(lastSeen, 36) + "." + signingKeyId;
    return body + "." + mac(signingKeyId, body);
  }

  Value decode(String value) throws Invalid {
    if (value.length() > MAX_LENGTH) {
      throw new Invalid("bad_signature");
    }
    Recent r = recent.get();
    int slot = value.hashCode() & (RECENT_SLOTS - 1);
    if (sameInConstantTime(value, r.verifiedValues[slot])) {
      return r.verified[slot];
    }
    Value v = verify(value);
    r.verifiedValues[slot] = value;
    r.verified[slot] = v;
    return v;
  }

  /** Equal strings, in time that depends on the length only (a cached value is somebody's valid cookie). */
  private static boolean sameInConstantTime(String a, String b) {
    if (b == null || a.length() != b.length()) {
      return false;
    }
    int diff = 0;
    for (int i = 0; i < a.length(); i++) {
      diff |= a.charAt(i) ^ b.charAt(i);
    }
    return diff == 0;
  }

  private Value verify(String value) throws Invalid {
    int lastDot = value.lastIndexOf('.');
    String[] parts = value.split("\\.", -1);
    if (parts.length != 5 || lastDot < 0) {
      throw new Invalid("bad_signature");
    }
    String body = value.substring(0, lastDot);
    if (!keys.containsKey(parts[3])
        || !MessageDigest.isEqual(mac(parts[3], body).getBytes(StandardCharsets.US_ASCII),
            parts[4].getBytes(StandardCharsets.US_ASCII))) {
      throw new Invalid("bad_signature");
    }
    try {
      return new Value(new String(B64D.decode(parts[0]), StandardCharsets.UTF_8), Long.parseLong(parts[1], 36),
          Long.parseLong(parts[2], 36));
    } catch (IllegalArgumentException e) {
      throw new Invalid("bad_signature");
    }
  }

  private String mac(String keyId, String body) {
    Mac mac = recent.get().macs.computeIfAbsent(keyId, id -> {
      try {
        Mac m = Mac.getInstance("HmacSHA256");
        m.init(new SecretKeySpec(keys.get(id), "HmacSHA256"));
        return m;
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    });
    byte[] full = mac.doFinal(body.getBytes(StandardCharsets.UTF_8));
    return B64.encodeToString(java.util.Arrays.copyOf(full, 16));
  }

  private static String keyId(byte[] key) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(key);
      return B64.encodeToString(java.util.Arrays.copyOf(digest, 3));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
