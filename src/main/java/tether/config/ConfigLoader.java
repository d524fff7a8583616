package tether.config;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.schema.CoreSchema;
import tether.edge.ErrorPages;
import tether.edge.RouteRules;
import tether.edge.ServerHeader;

/** YAML file to {@link TetherConfig}: validated once, every error reported at once with file, line and key path. */
public final class ConfigLoader {

  private static final Pattern HOST_NAME = Pattern.compile("\\[[0-9a-fA-F:.]+]|[A-Za-z0-9.-]+");
  static final Pattern HOST_PORT = Pattern.compile("(\\[[0-9a-fA-F:.]+]|[A-Za-z0-9.-]+):(\\d{1,5})");
  // Generated once per process, so a reload without configured secrets keeps accepting the cookies it issued.
  private static final String PROCESS_SECRET = randomSecret();
  private static final Duration DEFAULT_HEALTH_TIMEOUT = Duration.ofSeconds(1);

  private final UnaryOperator<String> env;
  private final StickyBinder sticky;

  public ConfigLoader() {
    this(System::getenv);
  }

  /** {@code env} resolves {@code ${NAME}} in every value (tests pass their own). */
  public ConfigLoader(UnaryOperator<String> env) {
    this.env = env;
    this.sticky = new StickyBinder(env, PROCESS_SECRET);
  }

  public TetherConfig load(Path file) throws ConfigException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException(List.of(file + ": cannot read: " + e.getMessage()));
    }
    return parse(file.toString(), text);
  }

  public TetherConfig parse(String fileName, String yaml) throws ConfigException {
    return parse(fileName, yaml, new YamlMap.Errors(fileName, new EnvSubstitution(env)));
  }

  /** Path -> the keys the loader asked for there, for a valid {@code yaml} (to hold the JSON Schema to them). */
  Map<String, Set<String>> keysAsked(String fileName, String yaml) throws ConfigException {
    YamlMap.Errors errors = new YamlMap.Errors(fileName, new EnvSubstitution(env));
    parse(fileName, yaml, errors);
    return errors.keysAsked();
  }

  private TetherConfig parse(String fileName, String yaml, YamlMap.Errors errors) throws ConfigException {
    Node root;
    // the core schema resolves merge keys (<<: *defaults) while composing
    LoadSettings settings = LoadSettings.builder().setLabel(fileName).setSchema(new CoreSchema()).build();
    try (Reader reader = new StringReader(yaml)) {
      root = new Compose(settings).composeReader(reader).orElse(null);
    } catch (MarkedYamlEngineException e) {
      int line = e.getProblemMark().map(m -> m.getLine() + 1).orElse(0);
      throw new ConfigException(List.of(fileName + ":" + line + ": YAML syntax: " + e.getProblem()));
    } catch (YamlEngineException | IOException e) {
      throw new ConfigException(List.of(fileName + ": YAML syntax: " + e.getMessage()));
    }
    if (root == null) {
      throw new ConfigException(List.of(fileName + ": empty configuration: at least one upstream is needed"));
    }
    TetherConfig config = bind(fileName, new YamlMap(root, "", errors));
    if (!errors.messages().isEmpty()) {
      throw new ConfigException(errors.messages());
    }
    return config;
  }

  private TetherConfig bind(String fileName, YamlMap root) {
    List<ListenConfig> listen = ListenBinder.listeners(fileName, root);
    if (!root.has("listen")) {
      listen.add(new ListenConfig("0.0.0.0", 8080));
    }
    AdminConfig admin = root.map("admin").map(this::admin)
        .orElse(new AdminConfig(true, "127.0.0.1", AdminConfig.DEFAULT_PORT,
            emptyToNull(env.apply("TETHER_ADMIN_TOKEN"))));
    ListenBinder.checkPorts(root, listen, admin);

    EdgeBinder edge = new EdgeBinder(fileName);
    ErrorPages errorPages = root.map("error_pages").map(edge::errorPages).orElse(ErrorPages.NONE);
    Map<String, UpstreamConfig> upstreams = new LinkedHashMap<>();
    Optional<YamlMap> ups = root.map("upstreams");
    if (ups.isEmpty()) {
      root.error(null, "missing required key \"upstreams\"");
    }
    ups.ifPresent(u -> {
      for (String name : u.keys()) {
        u.map(name).ifPresent(m -> upstreams.put(name, upstream(name, m, edge, errorPages)));
      }
    });

    CompressionConfig compression = root.map("compression").map(c -> compression(c, CompressionConfig.DEFAULTS))
        .orElse(CompressionConfig.OFF);
    List<RouteConfig> routes = new ArrayList<>();
    for (YamlMap r : root.mapList("routes")) {
      RouteRules rules = edge.routeRules(r);
      String upstream = r.has("redirect") ? r.string("upstream", null) : r.requiredString("upstream");
      if (r.has("redirect") && upstream != null) {
        r.error("upstream", "a redirect route forwards nothing (expected: upstream or redirect, not both)");
      }
      RouteConfig route = new RouteConfig(r.string("host", "*"), r.string("path", "/"), upstream,
          r.map("rate_limit").map(LimitBinder::rate).orElse(null),
          r.map("conn_limit").map(LimitBinder::conn).orElse(null), rules,
          r.map("compression").map(c -> compression(c, compression.enabled() ? compression
              : CompressionConfig.DEFAULTS)).orElse(compression));
      if (route.upstream() != null && !upstreams.containsKey(route.upstream()) && ups.isPresent()) {
        r.error("upstream", "no upstream named \"" + route.upstream() + "\" (have: "
            + String.join(", ", upstreams.keySet()) + ")");
      }
      if (!route.path().startsWith("/")) {
        r.error("path", "expected a path prefix starting with /, got \"" + route.path() + "\"");
      }
      routes.add(route);
      r.done();
    }
    if (root.isEmptyList("routes")) {
      root.error("routes", "no route: every request would get 404 (expected: at least one route, or no routes key"
          + " to send everything to the only upstream)");
    }
    if (!root.has("routes") && upstreams.size() == 1) {
      routes.add(new RouteConfig("*", "/", upstreams.keySet().iterator().next(), null, null, null, compression));
    } else if (!root.has("routes") && upstreams.size() > 1) {
      root.error(null, "missing \"routes\": with several upstreams, say which requests go where");
    }

    TimeoutsConfig timeouts = timeouts(root.map("timeouts").orElse(new YamlMap(null, "timeouts", root.errors())));
    LimitsConfig limits = limits(root.map("limits").orElse(new YamlMap(null, "limits", root.errors())));

    int workers = root.integer("workers", Runtime.getRuntime().availableProcessors(), 1, 256);
    IoTransport transport = root.enumValue("transport", IoTransport.AUTO, IoTransport.class);
    if (!transport.available()) {
      root.error("transport", transport.configName() + " does not work in this process ("
          + transport.unavailableBecause() + "): use auto (epoll, else nio)");
    }
    AccessLogConfig accessLog = root.map("access_log").map(a -> {
      AccessLogConfig c = new AccessLogConfig(a.bool("enabled", true),
          a.enumValue("format", AccessLogConfig.Format.TEXT, AccessLogConfig.Format.class), a.string("path", null));
      a.done();
      return c;
    }).orElse(new AccessLogConfig(true, AccessLogConfig.Format.TEXT, null));
    List<String> trusted = root.stringList("trusted_proxies");
    TrustedProxies trustedProxies = TrustedProxies.NONE;
    try {
      trustedProxies = new TrustedProxies(trusted);
    } catch (IllegalArgumentException e) {
      root.error("trusted_proxies", e.getMessage());
    }
    Duration shutdownTimeout = root.duration("shutdown_timeout", Duration.ofSeconds(30));
    Duration resolve = root.duration("resolve", Duration.ofSeconds(5));
    ServerHeader serverHeader = root.enumValue("server_header", ServerHeader.TETHER, ServerHeader.class);
    if (resolve.toMillis() < 100) {
      root.error("resolve", "expected at least 100ms, got " + resolve.toMillis() + "ms");
    }
    Http2Config http2 = root.map("http2").map(ListenBinder::http2).orElse(Http2Config.DEFAULTS);
    root.done();
    return new TetherConfig(fileName, listen, admin, upstreams, routes, timeouts, limits, workers, accessLog,
        trustedProxies, shutdownTimeout, resolve, errorPages, serverHeader, compression, http2, transport);
  }

  /**
   * A {@code compression} block: each key it leaves out is {@code parent}'s (the top level's for a route, whose
   * block is read as on when the top level has none).
   */
  private static CompressionConfig compression(YamlMap c, CompressionConfig parent) {
    List<String> given = c.stringList("types");
    List<String> types = c.has("types") ? given : parent.types();
    for (int i = 0; i < types.size(); i++) {
      String problem = CompressionConfig.checkType(types.get(i));
      if (problem != null) {
        c.error("types", i, problem);
      }
    }
    if (c.isEmptyList("types")) {
      c.error("types", "no media type: nothing would be compressed (expected: at least one, or gzip: false)");
    }
    CompressionConfig config = new CompressionConfig(c.bool("gzip", parent.gzip()),
        c.integer("level", parent.level(), 1, 9), c.bool("zstd", parent.zstd()),
        c.integer("zstd_level", parent.zstdLevel(), 1, 19), c.size("min_length", parent.minLength()), types);
    c.done();
    return config;
  }

  private static TimeoutsConfig timeouts(YamlMap t) {
    TimeoutsConfig c = new TimeoutsConfig(t.duration("connect", Duration.ofSeconds(2)),
        t.duration("response_header", Duration.ofSeconds(30)), t.duration("idle", Duration.ofSeconds(60)),
        t.duration("header", Duration.ofSeconds(10)), t.duration("body", Duration.ofSeconds(60)),
        t.duration("upstream_keepalive", Duration.ofSeconds(4)), t.duration("tunnel_idle", Duration.ofHours(1)));
    if (c.upstreamKeepalive().toMillis() < 1000 || c.upstreamKeepalive().toMillis() % 1000 != 0) {
      t.error("upstream_keepalive", "expected whole seconds, at least 1s, got " + c.upstreamKeepalive().toMillis()
          + "ms");
    }
    if (c.tunnelIdle().toMillis() < 100) {
      t.error("tunnel_idle", "expected at least 100ms, got " + c.tunnelIdle().toMillis() + "ms");
    }
    t.done();
    return c;
  }

  private static LimitsConfig limits(YamlMap l) {
    LimitsConfig c = new LimitsConfig((int) Math.min(Integer.MAX_VALUE, l.size("max_header_bytes", 16384)),
        l.size("max_body_bytes", 100L << 20), (int) Math.min(Integer.MAX_VALUE, l.size("max_uri_bytes", 8192)),
        l.integer("max_header_count", 100, 1, 10_000), l.integer("max_connections", 20_000, 1, 10_000_000));
    l.done();
    return c;
  }

  private AdminConfig admin(YamlMap a) {
    List<String> hosts = a.stringList("allowed_hosts");
    for (String h : hosts) {
      if (!HOST_NAME.matcher(h).matches()) {
        a.error("allowed_hosts", "expected a host name without scheme or port (e.g. tether-admin.internal),"
            + " got \"" + h + "\"");
      }
    }
    AdminConfig c = new AdminConfig(a.bool("enabled", true), a.string("address", "127.0.0.1"),
        a.integer("port", AdminConfig.DEFAULT_PORT, 0, 65535), emptyToNull(a.string("token",
        env.apply("TETHER_ADMIN_TOKEN"))), hosts);
    if (c.enabled() && !isLoopback(c.address()) && (c.token() == null || c.token().isBlank())) {
      a.error("address", "admin listener on " + c.address() + " is not loopback: set admin.token"
          + " (or TETHER_ADMIN_TOKEN) so the admin API requires a bearer token");
    }
    a.done();
    return c;
  }

  private UpstreamConfig upstream(String name, YamlMap u, EdgeBinder edge, ErrorPages globalPages) {
    List<ServerConfig> servers = new ArrayList<>();
    Set<String> names = new HashSet<>();
    Set<String> routes = new HashSet<>();
    List<YamlMap> withRoute = new ArrayList<>();
    for (YamlMap s : u.mapList("servers")) {
      ServerConfig server = server(s);
      if (s.has("route")) {
        withRoute.add(s);
      }
      if (server.name() != null && !names.add(server.name())) {
        s.error("name", "duplicate server name \"" + server.name() + "\" in upstream " + name);
      }
      if (server.route() != null && !routes.add(server.route()) && !server.route().equals(server.name())) {
        s.error("route", "duplicate route \"" + server.route() + "\" in upstream " + name);
      }
      servers.add(server);
    }
    if (servers.isEmpty()) {
      u.error(u.has("servers") ? "servers" : null, "an upstream needs at least one server");
    } else if (servers.stream().allMatch(ServerConfig::backup)) {
      u.error("servers", "every server is a backup: at least one must be a primary");
    }
    Balance balance = u.enumValue("balance", Balance.ROUND_ROBIN, Balance.class);
    Optional<YamlMap> stickyYaml = u.map("sticky");
    StickyConfig bound = stickyYaml.isPresent() ? this.sticky.bind(stickyYaml.get()) : StickyConfig.NONE;
    StickyConfig sticky = bound == null ? StickyConfig.NONE : bound;
    if (bound != null && sticky.mode() != StickyConfig.Mode.ROUTE) {
      // a server's route is a key of sticky mode route: in any other mode it would be silently ignored
      withRoute.forEach(s -> s.error("route", "only sticky mode route reads it (this upstream's sticky mode is "
          + sticky.mode().yamlName() + ")"));
    }
    HealthConfig health = u.map("health").map(ConfigLoader::health).orElse(null);
    PassiveHealthConfig passive = u.map("passive").map(ConfigLoader::passive).orElse(defaultPassive());
    UpstreamConfig c = new UpstreamConfig(name, balance, servers, sticky, health, passive,
        u.duration("slow_start", Duration.ZERO), u.integer("max_attempts", 3, 1, 16),
        u.size("retry_buffer", 64 * 1024), u.integer("pool_size", 256, 1, 100_000),
        u.bool("debug_header", false), u.enumValue("retry_after_send", RetryAfterSend.IDEMPOTENT,
        RetryAfterSend.class), u.map("error_pages").map(edge::errorPages).orElse(ErrorPages.NONE)
        .withFallback(globalPages));
    u.done();
    return c;
  }

  private static ServerConfig server(YamlMap s) {
    String name = s.requiredString("name");
    String address = s.requiredString("address");
    String host = null;
    int port = 0;
    if (address != null) {
      Matcher m = HOST_PORT.matcher(address.trim());
      if (m.matches() && Integer.parseInt(m.group(2)) >= 1 && Integer.parseInt(m.group(2)) <= 65535) {
        host = m.group(1).startsWith("[") ? m.group(1).substring(1, m.group(1).length() - 1) : m.group(1);
        port = Integer.parseInt(m.group(2));
      } else {
        s.error("address", "expected host:port, got \"" + address + "\"");
      }
    }
    ServerConfig c = new ServerConfig(name, host, port, s.integer("weight", 1, 1, 256), s.bool("backup", false),
        s.string("route", name));
    s.done();
    return c;
  }

  private static HealthConfig health(YamlMap h) {
    String path = h.string("path", "/health");
    if (!path.startsWith("/")) {
      h.error("path", "expected a path starting with /, got \"" + path + "\"");
    }
    String method = h.scalar("method", "GET", v -> {
      if (!v.equals("GET") && !v.equals("HEAD")) {
        throw new IllegalArgumentException("expected GET or HEAD, got \"" + v + "\"");
      }
      return v;
    });
    int[] status = h.scalar("expect_status", new int[] {200, 399}, ConfigLoader::statusRange);
    Duration interval = h.duration("interval", Duration.ofSeconds(2));
    // like HAProxy's timeout check, which defaults to inter: never longer than the interval unless written so
    Duration timeout = h.duration("timeout", interval.isZero() ? DEFAULT_HEALTH_TIMEOUT
        : min(DEFAULT_HEALTH_TIMEOUT, interval));
    int rise = h.integer("rise", 2, 1, 100);
    int fall = h.integer("fall", 2, 1, 100);
    String expectBody = h.string("expect_body", null);
    String host = h.string("host", null);
    int port = h.integer("port", 0, 0, 65535);
    boolean startDown = h.bool("start_down", false);
    HealthConfig c = h.build(() -> new HealthConfig(path, method, interval, timeout, rise, fall, status[0],
        status[1], expectBody, host, port, startDown), null);
    h.done();
    return c;
  }

  private static int[] statusRange(String text) {
    Matcher m = Pattern.compile("([1-5]\\d\\d)(?:-([1-5]\\d\\d))?").matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("expected a status or range like 200 or 200-399, got \"" + text + "\"");
    }
    int from = Integer.parseInt(m.group(1));
    return new int[] {from, m.group(2) == null ? from : Integer.parseInt(m.group(2))};
  }

  private static PassiveHealthConfig passive(YamlMap p) {
    Set<Integer> statuses = new HashSet<>();
    for (String s : p.stringList("fail_statuses")) {
      try {
        int status = Integer.parseInt(s.trim());
        if (status < 100 || status > 999) {
          throw new NumberFormatException(); // (no response has it: it would never count)
        }
        statuses.add(status);
      } catch (NumberFormatException e) {
        p.error("fail_statuses", "expected HTTP status codes (100-999), got \"" + s + "\"");
      }
    }
    PassiveHealthConfig d = defaultPassive();
    int maxFails = p.integer("max_fails", d.maxFails(), 0, 1000);
    Duration failWindow = p.duration("fail_window", d.failWindow());
    Duration ejectFor = p.duration("eject_for", d.ejectFor());
    // as Envoy's max_ejection_time: the default never undercuts eject_for
    Duration maxEjectFor = p.duration("max_eject_for", max(d.maxEjectFor(), ejectFor));
    Set<Integer> failStatuses = p.has("fail_statuses") ? statuses : d.failStatuses();
    PassiveHealthConfig c = p.build(() -> new PassiveHealthConfig(maxFails, failWindow, ejectFor, maxEjectFor,
        failStatuses), d);
    p.done();
    return c;
  }

  private static PassiveHealthConfig defaultPassive() {
    return new PassiveHealthConfig(3, Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofMinutes(5),
        Set.of());
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  private static String emptyToNull(String value) {
    return value == null || value.isEmpty() ? null : value;
  }

  static boolean isLoopback(String address) {
    return address.equals("localhost") || address.startsWith("127.") || address.equals("::1");
  }

  private static String randomSecret() {
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    return Base64.getEncoder().encodeToString(key);
  }
}
