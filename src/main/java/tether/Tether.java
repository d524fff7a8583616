package tether;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.transport.Transport;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tether.config.TetherConfig;
import tether.config.UpstreamConfig;
import tether.health.ActiveHealthChecker;
import tether.health.HealthListener;
import tether.health.PassiveHealthObserver;
import tether.proxy.AccessLog;
import tether.proxy.ProxyListener;
import tether.proxy.ProxyServer;
import tether.upstream.UpstreamRegistry;

/** One running Tether: wiring only (config -> registry -> proxy, and the operator side). */
public final class Tether {

  private static final Logger LOG = LoggerFactory.getLogger(Tether.class);

  private final Vertx vertx;
  private final UpstreamRegistry registry = new UpstreamRegistry();
  private final ProxyServer proxy;
  private final ActiveHealthChecker health;
  private volatile TetherConfig config;

  private Tether(TetherConfig config, List<ProxyListener> extraListeners) {
    this.config = config;
    Transport transport = Transport.EPOLL.available() ? Transport.EPOLL : Transport.NIO;
    this.vertx = Vertx.builder()
        .with(new VertxOptions().setEventLoopPoolSize(config.workers()))
        .withTransport(transport)
        .build();
    this.health = new ActiveHealthChecker(vertx, HealthListener.NONE);
    List<ProxyListener> listeners = new ArrayList<>(extraListeners);
    listeners.add(new PassiveHealthObserver(vertx, HealthListener.NONE));
    if (config.accessLog().enabled()) {
      listeners.add(new AccessLog(config.accessLog()));
    }
    this.proxy = new ProxyServer(vertx, registry, ProxyListener.all(listeners));
  }

  public static Future<Tether> start(TetherConfig config) {
    return start(config, List.of());
  }

  public static Future<Tether> start(TetherConfig config, List<ProxyListener> listeners) {
    Tether tether = new Tether(config, listeners);
    return tether.proxy.start(config).map(v -> {
      tether.health.apply(tether.proxy.snapshot().upstreams());
      tether.logStarted();
      return tether;
    }).recover(err -> tether.vertx.close().transform(x -> Future.failedFuture(err)));
  }

  private void logStarted() {
    List<Integer> ports = proxy.ports();
    for (int i = 0; i < config.listen().size(); i++) {
      LOG.info("listening on http://{}:{} ({} workers)", config.listen().get(i).address(),
          i < ports.size() ? ports.get(i) : config.listen().get(i).port(), config.workers());
    }
    for (UpstreamConfig u : config.upstreams().values()) {
      LOG.info("upstream {}: {} {}, sticky {}", u.name(), u.balance().name().toLowerCase(),
          u.servers().stream().map(s -> s.name() + "=" + s.address() + (s.backup() ? " (backup)" : "")).toList(),
          u.sticky().mode().name().toLowerCase());
      if (u.sticky().mode() == tether.config.StickyConfig.Mode.COOKIE && u.sticky().secretGenerated()) {
        LOG.warn("upstream {}: no sticky secret configured (sticky.secret or TETHER_STICKY_SECRET): a random one was"
            + " generated, so sticky cookies will not survive a restart or work across instances", u.name());
      }
    }
  }

  public TetherConfig config() {
    return config;
  }

  public Vertx vertx() {
    return vertx;
  }

  public ProxyServer proxy() {
    return proxy;
  }

  /** Actual proxy listen ports, in config order. */
  public List<Integer> ports() {
    return proxy.ports();
  }

  /** Closing Vert.x undeploys the verticles and closes the listeners. */
  public Future<Void> stop() {
    health.stop();
    return vertx.close();
  }
}
