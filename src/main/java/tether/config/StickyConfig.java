package tether.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * How a user is kept on its server: one record per mode, each with only the keys that mode reads (like Envoy's
 * {@code oneof} of session-state kinds), so a key of another mode is an error at load time, never silently ignored.
 * Durations are wall clock; a null duration is off. Cross-field rules are checked in the compact constructors and
 * thrown together as {@link InvalidConfig}, each naming the YAML key to blame.
 *
 * <p>{@code cookie} is the one key several modes share: Tether's own cookie in {@link Cookie}, the app's session
 * cookie in {@link Route} and {@link Learn}. {@code max_entries} and {@code ttl} bound the learned tables of route,
 * learn (and, for {@code max_entries}, hash).
 */
public sealed interface StickyConfig
    permits StickyConfig.None, StickyConfig.Cookie, StickyConfig.Route, StickyConfig.Learn, StickyConfig.Hash {

  /** The {@code mode:} value; {@link #keys()} are the YAML keys the mode takes besides {@code mode}. */
  enum Mode {
    NONE(Set.of()),
    COOKIE(Set.of("cookie", "secret", "max_idle", "max_life", "domain", "max_age", "secure", "same_site")),
    ROUTE(Set.of("cookie", "separator", "path_param", "query_param", "max_entries", "ttl")),
    LEARN(Set.of("cookie", "max_entries", "ttl", "store")),
    HASH(Set.of("key", "cookie", "max_entries", "learn_window", "store"));

    private final Set<String> keys;

    Mode(Set<String> keys) {
      this.keys = keys;
    }

    public Set<String> keys() {
      return keys;
    }

    public String yamlName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** AUTO: Secure when the client connection is TLS or a trusted X-Forwarded-Proto says https. */
  enum Secure { AUTO, ALWAYS, NEVER }

  /** The cookie's SameSite attribute; {@link #attribute()} is how it is written in Set-Cookie. */
  enum SameSite {
    LAX("Lax"), STRICT("Strict"), NONE("None");

    private final String attribute;

    SameSite(String attribute) {
      this.attribute = attribute;
    }

    public String attribute() {
      return attribute;
    }
  }

  /** What {@link Hash} hashes: a cookie's or a header's value (named by {@code keyName}), or the client IP. */
  enum HashKey { COOKIE, HEADER, IP }

  StickyConfig NONE = new None();

  Mode mode();

  /**
   * True when mode cookie signs with a key generated at start (none configured): such cookies die with the
   * process. False in every other mode, which signs nothing.
   */
  default boolean secretGenerated() {
    return false;
  }

  /** {@code mode: none}: no stickiness; the balancer alone decides. */
  record None() implements StickyConfig {
    @Override
    public Mode mode() {
      return Mode.NONE;
    }
  }

  /**
   * {@code mode: cookie}: Tether's own HMAC-signed cookie names the server (HAProxy's {@code cookie ... insert},
   * with {@code maxidle}/{@code maxlife}). {@code secrets}: sign with the first, accept any (rotation), never empty;
   * {@code maxIdle}/{@code maxLife}: checked on the cookie's own times, null = off, max_idle <= max_life;
   * {@code domain}, {@code maxAge}: cookie attributes, null = none (a browser-session cookie); SameSite=None needs
   * Secure, so it is refused with {@code secure: never}.
   */
  record Cookie(String cookie, List<String> secrets, boolean secretGenerated, Duration maxIdle, Duration maxLife,
                String domain, Duration maxAge, Secure secure, SameSite sameSite) implements StickyConfig {

    public Cookie {
      secrets = List.copyOf(secrets);
      List<InvalidConfig.Problem> problems = new ArrayList<>();
      if (secrets.isEmpty()) {
        problems.add(new InvalidConfig.Problem("secret", "at least one secret is needed to sign the cookie"));
      }
      if (maxIdle != null && maxLife != null && maxIdle.compareTo(maxLife) > 0) {
        problems.add(new InvalidConfig.Problem("max_idle", Units.format(maxIdle) + " is longer than max_life "
            + Units.format(maxLife) + " (expected: max_idle <= max_life, or max_idle would never apply)"));
      }
      if (sameSite == SameSite.NONE && secure == Secure.NEVER) {
        problems.add(new InvalidConfig.Problem("same_site", "none needs the Secure attribute and secure is never,"
            + " so the cookie would always go out as Lax (expected: secure auto | always, or same_site lax | strict)"));
      }
      InvalidConfig.throwIfAny(problems);
    }

    @Override
    public Mode mode() {
      return Mode.COOKIE;
    }
  }

  /**
   * {@code mode: route}: the app's session id ends in {@code separator} + the server's route (Tomcat jvmRoute,
   * httpd mod_proxy_balancer {@code stickysession}), read from cookie {@code cookie}, else the {@code ;pathParam=}
   * path parameter, else query parameter {@code queryParam}. Failover moves are remembered for {@code ttl} (idle),
   * at most {@code maxEntries}. separator, pathParam and queryParam are not empty.
   */
  record Route(String cookie, String separator, String pathParam, String queryParam, long maxEntries, Duration ttl)
      implements StickyConfig {

    public Route {
      List<InvalidConfig.Problem> problems = new ArrayList<>();
      notEmpty(problems, "separator", separator);
      notEmpty(problems, "path_param", pathParam);
      notEmpty(problems, "query_param", queryParam);
      InvalidConfig.throwIfAny(problems);
    }

    @Override
    public Mode mode() {
      return Mode.ROUTE;
    }
  }

  /**
   * {@code sticky.store}: where several Tether instances share what they learned (HAProxy's stick-table peers,
   * through a store the app already runs). {@code addresses}: host:port of each memcached server (keys are spread
   * over them, the same way on every instance given the same list). {@code timeout}: how long a request whose
   * session this instance does not know waits for the store before it is balanced. {@code recheck}: a session
   * known locally is read again from the store when its entry is older than this, so a move made by another
   * instance is followed.
   */
  record Store(List<String> addresses, Duration timeout, Duration recheck) {

    public Store {
      addresses = List.copyOf(addresses);
      if (addresses.isEmpty()) {
        throw new InvalidConfig(List.of(new InvalidConfig.Problem("memcached", "no memcached server (expected:"
            + " store: {memcached: [\"host:port\", ...]})")));
      }
    }
  }

  /**
   * {@code mode: learn}: session id (cookie {@code cookie}) -> server, learned from the backend's Set-Cookie, as
   * HAProxy's {@code stick store-response res.cook(...)}; at most {@code maxEntries}, idle entries expire after
   * {@code ttl}; shared with other instances through {@code store} (null: kept in this process only).
   */
  record Learn(String cookie, long maxEntries, Duration ttl, Store store) implements StickyConfig {

    public Learn(String cookie, long maxEntries, Duration ttl) {
      this(cookie, maxEntries, ttl, null);
    }

    @Override
    public Mode mode() {
      return Mode.LEARN;
    }
  }

  /**
   * {@code mode: hash}: consistent hash of {@code key} (cookie or header {@code keyName}, or the client IP; keyName
   * is null for IP), as nginx {@code hash ... consistent}; keys new to the ring's choice are remembered for a sliding
   * {@code learnWindow}, at most {@code maxEntries}; that memory is shared with other instances through
   * {@code store} (null: kept in this process only, so with several instances {@code learnWindow} 0 is the
   * consistent choice).
   */
  record Hash(HashKey key, String keyName, long maxEntries, Duration learnWindow, Store store)
      implements StickyConfig {

    public Hash(HashKey key, String keyName, long maxEntries, Duration learnWindow) {
      this(key, keyName, maxEntries, learnWindow, null);
    }

    public Hash {
      if (key != HashKey.IP && (keyName == null || keyName.isEmpty())) {
        throw new InvalidConfig(List.of(new InvalidConfig.Problem("key",
            "a " + key.name().toLowerCase(Locale.ROOT) + " name is needed (expected: cookie:NAME,"
                + " header:NAME or ip)")));
      }
    }

    @Override
    public Mode mode() {
      return Mode.HASH;
    }
  }

  private static void notEmpty(List<InvalidConfig.Problem> problems, String key, String value) {
    if (value == null || value.isEmpty()) {
      problems.add(new InvalidConfig.Problem(key, "must not be empty"));
    }
  }
}
