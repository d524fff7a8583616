package tether.admin;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tether.config.AdminConfig;
import tether.config.ListenException;
import tether.config.Units;
import tether.metrics.PinnedUsers;
import tether.metrics.TetherMetrics;
import tether.proxy.ProxySnapshot;
import tether.upstream.AdminState;
import tether.upstream.Backend;
import tether.upstream.Maintenance;
import tether.upstream.Upstream;

/**
 * The operator listener: {@code GET /metrics} (Prometheus), {@code GET /status} (JSON), {@code GET /} (the status
 * page), {@code GET /healthz} (Tether's own health), {@code POST /servers/{upstream}/{server}/{drain|disable|enable}},
 * {@code POST /upstreams/{upstream}/maintenance/{on|off}} and {@code POST /reload}. With a token configured,
 * everything but the page itself and {@code /healthz} needs {@code Authorization: Bearer <token>}. Cross-site and
 * DNS-rebinding requests get 403 before that (see {@link CrossSiteGuard}); every POST and every 403 is logged with
 * who asked (remote address, whether a token was sent), what, and the outcome.
 */
public final class AdminServer {

  private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);

  /** What the admin API asks of the running Tether. */
  public interface Operations {
    Supplier<ProxySnapshot> snapshot();

    /** @return the errors of the new configuration (empty when it was applied) */
    Future<List<String>> reload();

    /** True from the stop signal on, while in-flight requests drain: {@code /healthz} answers 503. */
    boolean shuttingDown();
  }

  private final Vertx vertx;
  private final AdminConfig config;
  private final Operations ops;
  private final TetherMetrics metrics;
  private final PinnedUsers pinned;
  private final String page;
  private final CrossSiteGuard guard;
  private HttpServer server;

  public AdminServer(Vertx vertx, AdminConfig config, Operations ops, TetherMetrics metrics, PinnedUsers pinned) {
    this.vertx = vertx;
    this.config = config;
    this.ops = ops;
    this.metrics = metrics;
    this.pinned = pinned;
    this.page = resource("/tether/admin/status.html");
    this.guard = new CrossSiteGuard(config.address(), config.allowedHosts());
  }

  /** Fails with a {@link ListenException} naming {@code admin} and its address when the port cannot be bound. */
  public Future<HttpServer> start() {
    server = vertx.createHttpServer().requestHandler(this::handle);
    return server.listen(config.port(), config.address())
        .recover(err -> Future.failedFuture(ListenException.of("admin", config.address(), config.port(), err)));
  }

  public int port() {
    return server.actualPort();
  }

  public Future<Void> stop() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  private void handle(HttpServerRequest req) {
    String path = req.path();
    String host = req.getHeader("Host");
    if (host == null && req.authority() != null) {
      host = req.authority().toString(); // HTTP/2 (h2c) carries it in :authority
    }
    CrossSiteGuard.Verdict verdict = guard.check(req.method(), host, req.getHeader("Origin"),
        req.getHeader("Sec-Fetch-Site"));
    if (!verdict.allowed()) {
      json(req, 403, new JsonObject().put("error", verdict.reason()));
      return;
    }
    if ((req.method() == HttpMethod.GET || req.method() == HttpMethod.HEAD) && path.equals("/healthz")) {
      healthz(req);
      return;
    }
    if (req.method() == HttpMethod.GET && path.equals("/")) {
      req.response().putHeader("content-type", "text/html; charset=utf-8")
          .putHeader("cache-control", "no-store").end(page);
      return;
    }
    if (!authorized(req)) {
      if (!CrossSiteGuard.isSafe(req.method())) {
        audit(req, 401, "no valid bearer token");
      }
      req.response().setStatusCode(401).putHeader("www-authenticate", "Bearer realm=\"tether\"")
          .end("401 Unauthorized: Authorization: Bearer <admin token> required\n");
      return;
    }
    if (req.method() == HttpMethod.GET && path.equals("/metrics")) {
      vertx.executeBlocking(metrics::scrape).onSuccess(text -> req.response()
          .putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8").end(text));
    } else if (req.method() == HttpMethod.GET && path.equals("/status")) {
      json(req, 200, StatusReport.of(ops.snapshot().get(), pinned, metrics));
    } else if (req.method() == HttpMethod.POST && path.equals("/reload")) {
      ops.reload().onComplete(ar -> {
        List<String> errors = ar.succeeded() ? ar.result() : List.of(String.valueOf(ar.cause().getMessage()));
        json(req, errors.isEmpty() ? 200 : 400, new JsonObject().put("reloaded", errors.isEmpty())
            .put("errors", errors));
      });
    } else if (req.method() == HttpMethod.POST && path.startsWith("/servers/")) {
      serverAction(req, path.substring("/servers/".length()).split("/"));
    } else if (req.method() == HttpMethod.POST && path.startsWith("/upstreams/")) {
      maintenance(req, path.substring("/upstreams/".length()).split("/"));
    } else {
      json(req, 404, new JsonObject().put("error", "no such admin endpoint: " + req.method() + " " + path));
    }
  }

  /**
   * Liveness and readiness of Tether itself, for Docker's HEALTHCHECK and Kubernetes probes: {@code 200 ok} while
   * serving, {@code 503 shutting down} during the drain (so a load balancer in front stops sending), no token, no
   * data. As Envoy's {@code /ready} and Traefik's {@code /ping}; backends' health is {@code /status}.
   */
  private void healthz(HttpServerRequest req) {
    boolean stopping = ops.shuttingDown();
    req.response().setStatusCode(stopping ? 503 : 200).putHeader("content-type", "text/plain; charset=utf-8")
        .putHeader("cache-control", "no-store").end(stopping ? "shutting down\n" : "ok\n");
  }

  private void serverAction(HttpServerRequest req, String[] parts) {
    Upstream upstream = parts.length == 3 ? ops.snapshot().get().upstreams().get(parts[0]) : null;
    Backend backend = upstream == null ? null : upstream.byName(parts[1]);
    if (backend == null) {
      json(req, 404, new JsonObject().put("error", "no server " + String.join("/", parts)));
      return;
    }
    long deadline = 0;
    String after = req.getParam("deadline");
    if (after != null) {
      try {
        deadline = System.nanoTime() + Units.duration(after).toNanos();
      } catch (IllegalArgumentException e) {
        json(req, 400, new JsonObject().put("error", "deadline: " + e.getMessage()));
        return;
      }
    }
    AdminState state = switch (parts[2]) {
      case "drain" -> AdminState.DRAIN;
      case "disable" -> AdminState.DISABLED;
      case "enable" -> AdminState.ACTIVE;
      default -> null;
    };
    if (state == null) {
      json(req, 400, new JsonObject().put("error", "expected drain, disable or enable, got " + parts[2]));
      return;
    }
    backend.admin(state, state == AdminState.DRAIN ? deadline : 0,
        "admin " + parts[2] + (after == null ? "" : " (deadline " + after + ")"));
    json(req, 200, new JsonObject().put("upstream", parts[0]).put("server", parts[1])
        .put("admin", state.name().toLowerCase()));
  }

  /**
   * {@code POST /upstreams/{upstream}/maintenance/on[?retry_after=10m]} and {@code .../off}: while on, the upstream's
   * requests get 503 with its error page and {@code Retry-After} (default 5m), and its servers none; off, pinned users
   * go back to their servers. Kept across reloads, as servers' admin states are.
   */
  private void maintenance(HttpServerRequest req, String[] parts) {
    Upstream upstream = parts.length == 3 && parts[1].equals("maintenance")
        ? ops.snapshot().get().upstreams().get(parts[0]) : null;
    if (upstream == null) {
      json(req, 404, new JsonObject().put("error", parts.length == 3 && parts[1].equals("maintenance")
          ? "no upstream " + parts[0] : "no such admin endpoint: POST " + req.path()));
      return;
    }
    Duration retryAfter = Maintenance.DEFAULT_RETRY_AFTER;
    String given = req.getParam("retry_after");
    if (given != null) {
      try {
        retryAfter = Units.duration(given);
      } catch (IllegalArgumentException e) {
        json(req, 400, new JsonObject().put("error", "retry_after: " + e.getMessage()));
        return;
      }
      if (retryAfter.toSeconds() < 1) {
        json(req, 400, new JsonObject().put("error", "retry_after: expected at least 1s, got " + given));
        return;
      }
    }
    switch (parts[2]) {
      case "on" -> upstream.maintenance().switchOn(retryAfter);
      case "off" -> upstream.maintenance().switchOff();
      default -> {
        json(req, 400, new JsonObject().put("error", "expected on or off, got " + parts[2]));
        return;
      }
    }
    var on = upstream.maintenance().on();
    json(req, 200, new JsonObject().put("upstream", parts[0]).put("maintenance", on != null)
        .put("retry_after_s", on == null ? null : on.retryAfterSeconds()));
  }

  /** One line per admin action or refusal: {@code admin disable app/web3 from 127.0.0.1:5432 (token: none): ...}. */
  private void audit(HttpServerRequest req, int status, String detail) {
    String[] p = req.path().split("/");
    String what = p.length == 5 && p[1].equals("servers") ? p[4] + " " + p[2] + "/" + p[3]
        : p.length == 5 && p[1].equals("upstreams") ? p[3] + " " + p[4] + " " + p[2]
        : req.path().equals("/reload") ? "reload" : req.method() + " " + req.path();
    String query = req.query() == null ? "" : "?" + req.query();
    if (status < 400) {
      LOG.info("admin {}{} from {} (token: {}): accepted ({})", what, query, req.remoteAddress(), tokenUse(req),
          status);
    } else {
      LOG.warn("admin {}{} from {} (token: {}): refused ({}: {})", what, query, req.remoteAddress(), tokenUse(req),
          status, detail);
    }
  }

  /** Whether a token came with the request, never the token itself. */
  private String tokenUse(HttpServerRequest req) {
    if (req.getHeader("Authorization") == null) {
      return "none";
    }
    if (config.token() == null || config.token().isEmpty()) {
      return "sent, none configured";
    }
    return authorized(req) ? "valid" : "invalid";
  }

  private boolean authorized(HttpServerRequest req) {
    if (config.token() == null || config.token().isEmpty()) {
      return true;
    }
    String header = req.getHeader("Authorization");
    byte[] expected = ("Bearer " + config.token()).getBytes(StandardCharsets.UTF_8);
    return header != null && MessageDigest.isEqual(expected, header.getBytes(StandardCharsets.UTF_8));
  }

  private void json(HttpServerRequest req, int status, JsonObject body) {
    if (!CrossSiteGuard.isSafe(req.method()) || status == 403) {
      audit(req, status, body.containsKey("errors") ? body.getJsonArray("errors").encode()
          : body.getString("error"));
    }
    req.response().setStatusCode(status).putHeader("content-type", "application/json")
        .putHeader("cache-control", "no-store").end(body.encodePrettily());
  }

  private static String resource(String name) {
    try (InputStream in = AdminServer.class.getResourceAsStream(name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException | NullPointerException e) {
      throw new IllegalStateException("missing resource " + name, e);
    }
  }
}
