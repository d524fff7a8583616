package tether.config;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import tether.tls.CertificateException;
import tether.tls.CertificateKeyPair;
import tether.tls.Certificates;
import tether.tls.TlsEngine;

/**
 * The {@code listen} entries: addresses and ports (no duplicates, no clash with the admin listener), TLS
 * certificates read and checked ({@code tether.tls}), HSTS, HTTP/2 and h2c, {@code redirect_https}; and the
 * top-level {@code http2} limits. Part of {@link ConfigLoader}, errors reported the same way.
 */
final class ListenBinder {

  private ListenBinder() {}

  /**
   * One port, one listener: {@code listen: []}, the same address and port twice (a wildcard address takes the port on
   * every address) and the admin listener on a proxy listener's port are errors. Port 0 (any free port) never clashes.
   */
  static void checkPorts(YamlMap root, List<ListenConfig> listen, AdminConfig admin) {
    if (!root.has("listen")) {
      ListenConfig only = listen.get(0); // the default listener
      if (admin.enabled() && clash(only.address(), only.port(), admin.address(), admin.port())) {
        root.error("admin", admin.address() + ":" + admin.port() + " is also the proxy listener's (with no listen"
            + " key, it is " + only.address() + ":" + only.port() + "; expected: the admin listener on a port of its"
            + " own)");
      }
      return;
    }
    if (root.isEmptyList("listen")) {
      root.error("listen", "no listener (expected: at least one address and port, or no listen key for"
          + " 0.0.0.0:8080)");
    }
    for (int i = 0; i < listen.size(); i++) {
      ListenConfig l = listen.get(i);
      boolean reported = false;
      for (int j = 0; j < i && !reported; j++) {
        ListenConfig earlier = listen.get(j);
        if (clash(l.address(), l.port(), earlier.address(), earlier.port())) {
          String how = l.address().equals(earlier.address()) ? " is listed twice" : " overlaps";
          root.error("listen", i, l.address() + ":" + l.port() + how + " (listen[" + j + "] is " + earlier.address()
              + ":" + earlier.port() + ")");
          reported = true;
        }
      }
      if (!reported && admin.enabled() && clash(l.address(), l.port(), admin.address(), admin.port())) {
        root.error("listen", i, l.address() + ":" + l.port() + " is also the admin listener's (admin is "
            + admin.address() + ":" + admin.port() + "; expected: the admin listener on a port of its own)");
      }
    }
  }

  static boolean clash(String address, int port, String otherAddress, int otherPort) {
    return port != 0 && port == otherPort
        && (address.equals(otherAddress) || isWildcard(address) || isWildcard(otherAddress));
  }

  static boolean isWildcard(String address) {
    return address.equals("0.0.0.0") || address.equals("::") || address.equals("[::]");
  }

  /**
   * {@code listen[]}: address and port, then the front-door protocols: {@code tls} (certificates read and checked
   * now), {@code http2} (ALPN h2, TLS only), {@code h2c} (plain only), {@code redirect_https} (plain only: true, for
   * the port of the first TLS listener or 443, or a port) and {@code hsts} (TLS only).
   */
  static List<ListenConfig> listeners(String fileName, YamlMap root) {
    List<ListenConfig> listen = new ArrayList<>();
    List<YamlMap> entries = root.mapList("listen");
    for (YamlMap l : entries) {
      boolean secure = l.has("tls");
      boolean http2 = l.bool("http2", true);
      TlsConfig tls = l.map("tls").map(t -> tls(baseDir(fileName), t, http2)).orElse(null);
      boolean h2c = l.bool("h2c", false);
      int redirect = l.scalar("redirect_https", 0, ListenBinder::redirectPort);
      Hsts hsts = l.map("hsts").map(ListenBinder::hsts).orElse(null);
      if (secure && h2c) {
        l.error("h2c", "h2c is HTTP/2 without TLS: on a TLS listener clients get h2 by ALPN (http2: true)");
      }
      if (secure && redirect != 0) {
        l.error("redirect_https", "only a plain listener redirects to https");
      }
      if (!secure && l.has("http2")) {
        l.error("http2", "http2 is offered by ALPN on TLS listeners; for HTTP/2 without TLS set h2c: true");
      }
      if (!secure && hsts != null) {
        l.error("hsts", "browsers ignore Strict-Transport-Security over plain HTTP (RFC 6797 §7.2): put it on the"
            + " TLS listener");
      }
      listen.add(new ListenConfig(l.string("address", "0.0.0.0"), l.integer("port", 8080, 0, 65535), tls, h2c,
          redirect, hsts));
      l.done();
    }
    int httpsPort = listen.stream().filter(c -> c.secure() && c.port() != 0).mapToInt(ListenConfig::port)
        .findFirst().orElse(443);
    listen.replaceAll(c -> c.redirectHttpsPort() != -1 ? c
        : new ListenConfig(c.address(), c.port(), c.tls(), c.h2c(), httpsPort, c.hsts()));
    return listen;
  }

  /** {@code redirect_https}: true (-1: the first TLS listener's port, resolved later), false (0) or a port. */
  static int redirectPort(String value) {
    return switch (value.trim()) {
      case "true", "yes", "on" -> -1;
      case "false", "no", "off" -> 0;
      default -> {
        try {
          int port = Integer.parseInt(value.trim());
          if (port >= 1 && port <= 65535) {
            yield port;
          }
        } catch (NumberFormatException e) {
          // the message below
        }
        throw new IllegalArgumentException("expected true, false or the https port (1..65535), got \"" + value + "\"");
      }
    };
  }

  /** {@code tls}: {@code cert} and {@code key}, or {@code certificates: [{cert, key}, ...]}; paths relative to the file. */
  static TlsConfig tls(Path base, YamlMap t, boolean http2) {
    List<CertificateKeyPair> certificates = new ArrayList<>();
    boolean single = t.has("cert") || t.has("key");
    if (single && t.has("certificates")) {
      t.error("certificates", "give either cert and key, or certificates: [{cert, key}, ...], not both");
    }
    boolean ok = true;
    if (single) {
      CertificateKeyPair pair = certificate(base, t);
      ok = pair != null;
      certificates.add(pair);
    }
    for (YamlMap c : t.mapList("certificates")) {
      CertificateKeyPair pair = certificate(base, c);
      ok &= pair != null;
      certificates.add(pair);
      c.done();
    }
    if (!single && !t.has("certificates")) {
      t.error(null, "missing \"cert\" and \"key\" (or \"certificates\": [{cert, key}, ...])");
      ok = false;
    } else if (t.has("certificates") && certificates.isEmpty()) {
      t.error("certificates", "at least one {cert, key}");
      ok = false;
    }
    TlsEngine engine = t.enumValue("engine", TlsEngine.AUTO, TlsEngine.class);
    if (engine == TlsEngine.OPENSSL && !TlsEngine.opensslAvailable()) {
      t.error("engine", "openssl (BoringSSL through netty-tcnative) does not load on this platform: use auto or jdk");
    }
    t.done();
    return ok ? new TlsConfig(certificates, engine, http2) : null;
  }

  /** One {@code cert}/{@code key} pair, read and checked; null (with the error reported) when it cannot serve. */
  static CertificateKeyPair certificate(Path base, YamlMap m) {
    String cert = m.requiredString("cert");
    String key = m.requiredString("key");
    if (cert == null || key == null) {
      return null;
    }
    Path keyFile = base.resolve(key);
    try {
      return Certificates.load(base.resolve(cert), keyFile, Instant.now());
    } catch (CertificateException e) {
      m.error(e.getMessage().startsWith(keyFile + ":") ? "key" : "cert", e.getMessage());
      return null;
    }
  }

  /** Relative certificate paths are read from the config file's directory (as the file's own includes would be). */
  static Path baseDir(String fileName) {
    try {
      Path parent = Path.of(fileName).toAbsolutePath().getParent();
      return parent == null ? Path.of("") : parent;
    } catch (InvalidPathException e) {
      return Path.of("");
    }
  }

  /** {@code hsts}: {max_age (default 1 year), include_subdomains, preload}. */
  static Hsts hsts(YamlMap h) {
    Hsts c = new Hsts(h.duration("max_age", Duration.ofDays(365)), h.bool("include_subdomains", false),
        h.bool("preload", false));
    if (c.preload() && (!c.includeSubdomains() || c.maxAge().compareTo(Duration.ofDays(365)) < 0)) {
      h.error("preload", "the preload list requires include_subdomains: true and max_age of at least 1 year");
    }
    h.done();
    return c;
  }

  /** {@code http2}: the limits of HTTP/2 client connections (see {@link Http2Config}). */
  static Http2Config http2(YamlMap h) {
    Http2Config d = Http2Config.DEFAULTS;
    int streams = h.integer("max_concurrent_streams", d.maxConcurrentStreams(), 1, 10_000);
    long stream = h.size("stream_window", d.streamWindow());
    long connection = h.size("connection_window", d.connectionWindow());
    int resets = h.integer("max_resets", d.maxResets(), 1, 1_000_000);
    Duration window = h.duration("reset_window", d.resetWindow());
    if (stream < 1024 || stream > Integer.MAX_VALUE) {
      h.error("stream_window", "expected 1KB..2147483647 bytes, got " + stream);
    }
    if (connection < 65_535 || connection > Integer.MAX_VALUE) {
      h.error("connection_window", "expected 65535..2147483647 bytes, got " + connection);
    }
    if (window.toMillis() < 1000 || window.toMillis() % 1000 != 0) {
      h.error("reset_window", "expected whole seconds, at least 1s, got " + window.toMillis() + "ms");
    }
    h.done();
    return new Http2Config(streams, (int) Math.min(Integer.MAX_VALUE, stream),
        (int) Math.min(Integer.MAX_VALUE, connection), resets, window);
  }
}
