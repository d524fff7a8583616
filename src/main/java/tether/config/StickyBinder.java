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
    return new StickyConfig.Learn(s.string("cookie", "PHPSESSID"),
        s.integer("max_entries", DEFAULT_MAX_ENTRIES, 1, 100_000_000), s.duration("ttl", DEFAULT_TTL));
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
    return s.build(() -> new StickyConfig.Hash(k, n, maxEntries, learnWindow), StickyConfig.NONE);
  }
}
