package tether.cli;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import tether.config.ListenException;

/**
 * Stand-ins for PHP servers whose sessions live in Memcached: each counts visits in a session kept in one shared
 * in-memory store, so any of them can continue any session. A control port stops and starts them.
 */
final class DemoBackends {

  static final String SESSION_COOKIE = "PHPSESSID";

  private final Vertx vertx;
  private final Map<String, AtomicInteger> sessions = new ConcurrentHashMap<>();
  private final Map<String, Integer> ports = new LinkedHashMap<>();
  private final Map<String, HttpServer> running = new ConcurrentHashMap<>();

  DemoBackends(Vertx vertx, Map<String, Integer> ports) {
    this.vertx = vertx;
    this.ports.putAll(ports);
  }

  /** Fails with a {@link ListenException} naming the demo server or the control port that cannot bind. */
  Future<?> startAll(int controlPort) {
    return Future.all(ports.keySet().stream().map(this::start).toList())
        .compose(v -> vertx.createHttpServer().requestHandler(this::control).listen(controlPort, "127.0.0.1")
            .recover(err -> Future.failedFuture(ListenException.of("demo control", "127.0.0.1", controlPort, err))));
  }

  Future<HttpServer> start(String name) {
    if (running.containsKey(name)) {
      return Future.succeededFuture(running.get(name));
    }
    return vertx.createHttpServer().requestHandler(req -> serve(name, req))
        .listen(ports.get(name), "127.0.0.1")
        .onSuccess(server -> running.put(name, server))
        .recover(err -> Future.failedFuture(ListenException.of("demo server " + name, "127.0.0.1", ports.get(name),
            err)));
  }

  Future<Void> stop(String name) {
    HttpServer server = running.remove(name);
    return server == null ? Future.succeededFuture() : server.close();
  }

  private void serve(String name, HttpServerRequest req) {
    if (req.path().equals("/health")) {
      req.response().end("ok\n");
      return;
    }
    Cookie cookie = req.getCookie(SESSION_COOKIE);
    String id = cookie == null || !sessions.containsKey(cookie.getValue()) ? null : cookie.getValue();
    if (id == null) {
      id = UUID.randomUUID().toString().replace("-", "").substring(0, 16);
      sessions.put(id, new AtomicInteger());
      req.response().addCookie(Cookie.cookie(SESSION_COOKIE, id).setPath("/").setHttpOnly(true));
    }
    int count = sessions.get(id).incrementAndGet();
    req.response().putHeader("content-type", "text/plain")
        .end("served by " + name + ", session " + id + ", visits " + count + "\n");
  }

  /** {@code POST /web1/stop}, {@code POST /web1/start}, {@code GET /}: which demo servers run. */
  private void control(HttpServerRequest req) {
    String[] parts = req.path().split("/");
    if (parts.length == 3 && ports.containsKey(parts[1]) && req.method().name().equals("POST")) {
      Future<?> done = parts[2].equals("stop") ? stop(parts[1]) : parts[2].equals("start") ? start(parts[1]) : null;
      if (done != null) {
        done.onComplete(ar -> req.response().end(parts[1] + (parts[2].equals("stop") ? " stopped\n"
            : " started\n")));
        return;
      }
    }
    StringBuilder out = new StringBuilder();
    ports.forEach((name, port) -> out.append(name).append(" 127.0.0.1:").append(port)
        .append(running.containsKey(name) ? " running" : " stopped").append('\n'));
    req.response().setStatusCode(req.path().equals("/") ? 200 : 404).end(out.toString());
  }
}
