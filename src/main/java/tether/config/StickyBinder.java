package tether.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;
import tether.config.StickyConfig.Mode;

/**
 * Binds {@code upstreams.NAME.sticky} to the {@link StickyConfig} record of its {@code mode} (default cookie). A
 * key of another mode is reported at its own line with the modes it belongs to
 * ({@code sticky.separator: not a key of mode learn (it belongs to route)}); a key of no mode is an unknown key.
 * Empty secrets are dropped ({@code ${TETHER_KEY_OLD:-}}), but a {@code secret} key left with none is an error;
 * without {@code secret}, mode cookie takes {@code TETHER_STICKY_SECRET} (comma-separated), else the per-process
 * generated secret.
 */
final class StickyBinder {

  private static final Duration DEFAULT_TTL = Duration.ofMinutes(30);
  private static final int DEFAULT_MAX_ENTRIES = 100_000;

  private final UnaryOperator<String> env;
  private final String processSecret;

  /** {@code env} looks a variable up. */
  StickyBinder(UnaryOperator<String> env, String processSecret) {
    this.env = env;
    this.processSecret = processSecret;
  }

  /** The mode's record; null when {@code mode} itself is wrong (reported). */
  StickyConfig bind(YamlMap s) {
    Mode mode = s.enumValue("mode", null, Mode.class);
    if (mode == null && s.has("mode")) {
      s.keys(); // the mode is wrong: judging the other keys against a guess would only add noise
      return null;
    }
    mode = mode == null ? Mode.COOKIE : mode;
    reportForeignKeys(s, mode);
    StickyConfig c = switch (mode) {
      case NONE -> StickyConfig.NONE;
      case COOKIE -> cookie(s);
      case ROUTE -> route(s);
      case LEARN -> learn(s);
      case HASH -> hash(s);
    };
    s.done();
    return c;
  }

  private static void reportForeignKeys(YamlMap s, Mode mode) {
    for (String key : List.copyOf(s.presentKeys())) {
      if (key.equals("mode") || mode.keys().contains(key)) {
        continue;
      }
      List<String> owners = new ArrayList<>();
      for (Mode m : Mode.values()) {
        if (m.keys().contains(key)) {
          owners.add(m.yamlName());
        }
      }
      if (!owners.isEmpty()) {
        s.misplacedKey(key, "not a key of mode " + mode.yamlName() + " (it belongs to " + and(owners) + ")");
      }
    }
  }

  private static String and(List<String> words) {
    int last = words.size() - 1;
    return last == 0 ? words.get(0) : String.join(", ", words.subList(0, last)) + " and " + words.get(last);
  }

  private StickyConfig cookie(YamlMap s) {
    List<String> secrets = new ArrayList<>();
    for (String secret : s.stringList("secret")) {
      if (!secret.isBlank()) {
        secrets.add(secret);
      }
    }
    if (!s.has("secret")) {
      String fromEnv = env.apply("TETHER_STICKY_SECRET");
      if (fromEnv != null && !fromEnv.isBlank()) {
        secrets.addAll(List.of(fromEnv.split(",")));
      }
    }
    boolean generated = secrets.isEmpty() && !s.has("secret");
    if (generated) {
      secrets.add(processSecret);
    }
    String cookie = s.string("cookie", "TETHER");
    Duration maxIdle = s.duration("max_idle", null);
    Duration maxLife = s.duration("max_life", null);
    String domain = s.string("domain", null);
    Duration maxAge = s.duration("max_age", null);
    StickyConfig.Secure secure = s.enumValue("secure", StickyConfig.Secure.AUTO, StickyConfig.Secure.class);
    StickyConfig.SameSite sameSite = s.scalar("same_site", StickyConfig.SameSite.LAX, v ->
        switch (v.toLowerCase(Locale.ROOT)) {
          case "lax" -> StickyConfig.SameSite.LAX;
          case "strict" -> StickyConfig.SameSite.STRICT;
          case "none" -> StickyConfig.SameSite.NONE;
          default -> throw new IllegalArgumentException("expected lax | strict | none, got \"" + v + "\"");
        });
    return s.build(() -> new StickyConfig.Cookie(cookie, secrets, generated, maxIdle, maxLife, domain, maxAge,
        secure, sameSite), StickyConfig.NONE);
  }

  private static StickyConfig route(YamlMap s) {
    String cookie = s.string("cookie", "JSESSIONID");
    String separator = s.string("separator", ".");
    String pathParam = s.string("path_param", "jsessionid");
    String queryParam = s.string("query_param", "jsessionid");
    long maxEntries = s.integer("max_entries", DEFAULT_MAX_ENTRIES, 1, 100_000_000);
    Duration ttl = s.duration("ttl", DEFAULT_TTL);
    return s.build(() -> new StickyConfig.Route(cookie, separator, pathParam, queryParam, maxEntries, ttl),
        StickyConfig.NONE);
  }

  private static StickyConfig learn(YamlMap s) {
    String cookie = s.string("cookie", "PHPSESSID");
    long maxEntries = s.integer("max_entries", DEFAULT_MAX_ENTRIES, 1, 100_000_000);
    Duration ttl = s.duration("ttl", DEFAULT_TTL);
    StickyConfig.Store store = store(s);
    return new StickyConfig.Learn(cookie, maxEntries, ttl, store);
  }

  /**
   * {@code store: {memcached: ["host:port", ...], timeout: 30ms, recheck: 5s}}; null without the key, or when every
   * address is empty ({@code ["${TETHER_MEMCACHED:-}"]}: the table stays local).
   */
  private static StickyConfig.Store store(YamlMap sticky) {
    return sticky.map("store").map(st -> {
      List<String> addresses = new ArrayList<>();
      List<String> given = st.stringList("memcached");
      for (int i = 0; i < given.size(); i++) {
        String a = given.get(i).trim();
        if (a.isEmpty()) {
          continue;
        }
        var m = ConfigLoader.HOST_PORT.matcher(a);
        if (m.matches() && Integer.parseInt(m.group(2)) >= 1 && Integer.parseInt(m.group(2)) <= 65535) {
          addresses.add(a);
        } else {
          st.error("memcached", i, "expected host:port, got \"" + a + "\"");
        }
      }
      Duration timeout = st.duration("timeout", Duration.ofMillis(30));
      if (timeout.isZero() || timeout.compareTo(Duration.ofSeconds(1)) > 0) {
        st.error("timeout", Units.format(timeout) + " (expected: 1ms..1s; requests wait this long for the store)");
      }
      Duration recheck = st.duration("recheck", Duration.ofSeconds(5));
      boolean allBlank = st.has("memcached") && given.stream().allMatch(String::isBlank);
      StickyConfig.Store store = allBlank ? null
          : st.build(() -> new StickyConfig.Store(addresses, timeout, recheck), null);
      st.done();
      return store;
    }).orElse(null);
  }

  /** {@code cookie: NAME} is short for {@code key: "cookie:NAME"}; giving both is ambiguous. */
  private static StickyConfig hash(YamlMap s) {
    if (s.has("cookie") && s.has("key")) {
      s.error("cookie", "give the hashed cookie once, as key: \"cookie:NAME\" (key is also set)");
    }
    String text = s.string("key", "cookie:" + s.string("cookie", "PHPSESSID"));
    StickyConfig.HashKey key = StickyConfig.HashKey.IP;
    String name = null;
    if (text.startsWith("cookie:") || text.startsWith("header:")) {
      key = text.startsWith("cookie:") ? StickyConfig.HashKey.COOKIE : StickyConfig.HashKey.HEADER;
      name = text.substring(text.indexOf(':') + 1);
    } else if (!text.equals("ip")) {
      s.error("key", "expected cookie:NAME, header:NAME or ip, got \"" + text + "\"");
    }
    StickyConfig.HashKey k = key;
    String n = name;
    long maxEntries = s.integer("max_entries", DEFAULT_MAX_ENTRIES, 1, 100_000_000);
    Duration learnWindow = s.duration("learn_window", Duration.ofSeconds(30));
    StickyConfig.Store store = store(s);
    return s.build(() -> new StickyConfig.Hash(k, n, maxEntries, learnWindow, store), StickyConfig.NONE);
  }
}
