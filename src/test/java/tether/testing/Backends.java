package tether.testing;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** Real Vert.x HTTP servers on ephemeral loopback ports that count the requests each one served. */
public final class Backends implements AutoCloseable {

  /** A started backend: its name, port and how many requests it served. */
  public record Backend(String name, int port, HttpServer server, AtomicInteger served) {
    public String address() {
      return "127.0.0.1:" + port;
    }
  }

  private final Vertx vertx = Vertx.vertx();
  private final List<Backend> started = new ArrayList<>();
  private final Map<String, Backend> byName = new ConcurrentHashMap<>();
  private final Map<String, Handler<HttpServerRequest>> handlers = new ConcurrentHashMap<>();

  /** A backend that answers "name" with header X-Served-By. */
  public Backend start(String name) {
    return start(name, req -> req.response().putHeader("X-Served-By", name).end(name));
  }

  public Backend start(String name, Handler<HttpServerRequest> handler) {
    return listen(name, 0, handler, new AtomicInteger());
  }

  /** A stopped backend back on its port, with its handler and its count. */
  public Backend restart(String name) {
    Backend old = byName.get(name);
    return listen(name, old.port(), handlers.get(name), old.served());
  }

  private Backend listen(String name, int port, Handler<HttpServerRequest> handler, AtomicInteger served) {
    HttpServer server = vertx.createHttpServer().requestHandler(req -> {
      served.incrementAndGet();
      handler.handle(req);
    }).listen(port, "127.0.0.1").await();
    Backend b = new Backend(name, server.actualPort(), server, served);
    started.add(b);
    byName.put(name, b);
    handlers.put(name, handler);
    return b;
  }

  /**
   * A backend that reads each request's body whole, adds it to {@code bodies} (as text) and answers
   * {@code "got N"} (N its length): what reached a server complete, for tests of bodies cut short.
   */
  public Backend bodies(String name, java.util.List<String> bodies) {
    return start(name, req -> req.body().onSuccess(b -> {
      bodies.add(b.toString());
      req.response().end("got " + b.length());
    }));
  }

  public Backend get(String name) {
    return byName.get(name);
  }

  public void stop(String name) {
    byName.get(name).server().close().await();
  }

  public Vertx vertx() {
    return vertx;
  }

  @Override
  public void close() {
    vertx.close().await();
  }
}
