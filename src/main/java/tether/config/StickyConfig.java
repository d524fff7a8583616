package tether.config;

import java.time.Duration;
import java.util.List;

/**
 * How a user is kept on its server. {@code cookie} names Tether's own cookie (mode COOKIE) or the app's session
 * cookie (ROUTE, LEARN, HASH with {@code hashKey} "cookie"); durations that are null are off.
 */
public record StickyConfig(
    Mode mode,
    String cookie,
    List<String> secrets,
    boolean secretGenerated,
    Duration maxIdle,
    Duration maxLife,
    String domain,
    Duration maxAge,
    Secure secure,
    String sameSite,
    String separator,
    String pathParam,
    String queryParam,
    long maxEntries,
    Duration ttl,
    HashKey hashKey,
    String hashKeyName,
    Duration learnWindow) {

  public enum Mode { NONE, COOKIE, ROUTE, LEARN, HASH }

  /** AUTO: Secure when the client connection is TLS or a trusted X-Forwarded-Proto says https. */
  public enum Secure { AUTO, ALWAYS, NEVER }

  public enum HashKey { COOKIE, HEADER, IP }

  public StickyConfig {
    secrets = List.copyOf(secrets);
  }

  public static final StickyConfig NONE = new StickyConfig(Mode.NONE, null, List.of(), false, null, null, null,
      null, Secure.AUTO, "Lax", ".", null, null, 0, null, HashKey.IP, null, null);
}
