package tether;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tether.admin.AdminServer;
import tether.config.ConfigException;
import tether.config.ConfigSource;
import tether.config.IoTransport;
import tether.config.RestartRequired;
import tether.config.StickyConfig;
import tether.config.TetherConfig;
import tether.config.UpstreamConfig;
import tether.health.ActiveHealthChecker;
import tether.health.EjectionTimer;
import tether.health.HealthLog;
import tether.metrics.PinnedUsers;
import tether.metrics.TetherMetrics;
import tether.accesslog.AccessLog;
import tether.proxy.ProxyListener;
import tether.proxy.ProxyServer;
import tether.proxy.ProxySnapshot;
import tether.resolve.ServerResolver;
import tether.upstream.ServerEvents;
import tether.upstream.UpstreamRegistry;

/** One running Tether: wiring only (config -> registry -> proxy, health, metrics, admin), reload and shutdown. */
public final class Tether implements AdminServer.Operations {

  private static final Logger LOG = LoggerFactory.getLogger(Tether.class);

  private final ConfigSource source;
  private final Vertx vertx;
  private final IoTransport transport;
  private final ProxyServer proxy;
  private final UpstreamRegistry registry;
  private final AccessLog accessLog;
  private final ActiveHealthChecker health;
  private final ServerResolver resolver;
  private final TetherMetrics metrics = new TetherMetrics();
  private final PinnedUsers pinned = new PinnedUsers();
  private final AdminServer admin;
  private volatile TetherConfig config;
  private volatile boolean shuttingDown;

  private Tether(ConfigSource source, TetherConfig config, List<ProxyListener> extraListeners) {
    this.source = source;
    this.config = config;
    this.transport = config.transport().resolve();
    this.vertx = eventLoops(config, transport);
    this.health = new ActiveHealthChecker(vertx);
    this.resolver = new ServerResolver(vertx, this::liveSnapshot);
    List<ProxyListener> listeners = new ArrayList<>(extraListeners);
    listeners.add(resolver);
    listeners.add(metrics);
    listeners.add(pinned);
    this.accessLog = new AccessLog(config.accessLog());
    listeners.add(accessLog);
    metrics.accessLogDropped(accessLog::dropped);
    this.registry = new UpstreamRegistry(ServerEvents.all(List.of(metrics, new HealthLog(this::liveUpstreams), new EjectionTimer(vertx))));
    this.proxy = new ProxyServer(vertx, registry, ProxyListener.all(listeners), resolver::resolveNew);
    this.admin = config.admin().enabled() ? new AdminServer(vertx, config.admin(), this, metrics, pinned) : null;
  }

  private static Vertx eventLoops(TetherConfig config, IoTransport transport) {
    return Vertx.builder()
        .with(new VertxOptions().setEventLoopPoolSize(config.workers())
            .setAddressResolverOptions(ServerResolver.vertxOptions()))
        .withTransport(transport.vertx())
        .build();
  }

  public static Future<Tether> start(TetherConfig config, List<ProxyListener> listeners) {
    return start(() -> config, config, listeners);
  }

  /**
   * Starts with {@code config}; {@code source} is read again on every reload. Fails, with Vert.x closed and no thread
   * left behind, when a listener cannot bind ({@link tether.config.ListenException} names which one).
   */
  public static Future<Tether> start(ConfigSource source, TetherConfig config, List<ProxyListener> listeners) {
    Tether tether = new Tether(source, config, listeners);
    // not bound to an event loop: a future that is would never complete once the close below stops its loop
    Promise<Tether> started = Promise.promise();
    tether.proxy.start(config)
        .compose(v -> tether.admin == null ? Future.succeededFuture() : tether.admin.start())
        .map(v -> {
          tether.resolver.start();
          tether.afterApply();
          tether.logStarted();
          return tether;
        })
        .onComplete(ar -> {
          if (ar.succeeded()) {
            started.complete(tether);
          } else {
            tether.stop().onComplete(x -> started.fail(ar.cause()));
          }
        });
    return started.future();
  }

  private void afterApply() {
    ProxySnapshot snapshot = proxy.snapshot();
    metrics.register(snapshot, proxy::snapshot);
    health.apply(snapshot.upstreams());
  }

  private void logStarted() {
    List<Integer> ports = proxy.ports();
    for (int i = 0; i < config.listen().size(); i++) {
      var l = config.listen().get(i);
      LOG.info("listening on {} ({} workers, {}{})", l.url(i < ports.size() ? ports.get(i) : l.port()),
          config.workers(), transport.configName(),
          l.secure() ? ", TLS " + tether.tls.ServerTls.describe(l.tls().engine()) : "");
    }
    if (admin != null) {
      LOG.info("admin on http://{}:{}/ (status page, /status, /metrics)", config.admin().address(), admin.port());
    }
    for (UpstreamConfig u : config.upstreams().values()) {
      LOG.info("upstream {}: {} {}, sticky {}", u.name(), u.balance().name().toLowerCase(),
          u.servers().stream().map(s -> s.name() + "=" + s.address() + (s.backup() ? " (backup)" : "")).toList(),
          u.sticky().mode().name().toLowerCase());
      if (u.sticky().mode() == StickyConfig.Mode.COOKIE && u.sticky().secretGenerated()) {
        LOG.warn("upstream {}: no sticky secret configured (sticky.secret or TETHER_STICKY_SECRET): a random one was"
            + " generated, so sticky cookies will not survive a restart or work across instances", u.name());
      }
    }
  }

  /**
   * Reloads as one transaction: reads the configuration again (off the event loop), refuses keys that need a restart
   * ({@link RestartRequired}), builds and binds everything (snapshot, host names, listeners), readies meters and
   * health checks, then publishes with one swap. Any failure changes nothing; it is logged (SIGHUP has no one else
   * to tell) and returned ({@code POST /reload} answers it). Servers that stay keep their health, counters and
   * sticky pins; servers removed lose their meters once their last request ended.
   *
   * @return the errors, empty when the new configuration runs
   */
  @Override
  public Future<List<String>> reload() {
    TetherConfig running = config;
    return vertx.executeBlocking(source::load, false)
        .compose(next -> {
          List<String> restart = RestartRequired.changes(running, next);
          return restart.isEmpty() ? proxy.stage(next) : Future.failedFuture(new ConfigException(restart));
        })
        .compose(staged -> {
          try {
            accessLog.apply(staged.snapshot().config().accessLog()); // the one step that can fail: first
          } catch (RuntimeException e) {
            return proxy.abandon(staged).transform(x -> Future.failedFuture(e));
          }
          metrics.register(staged.snapshot(), proxy::snapshot);
          health.apply(staged.snapshot().upstreams());
          return proxy.publish(staged).map(v -> staged.snapshot().config());
        })
        .map(next -> {
          config = next;
          pruneWhenIdle(registry.retire(next), System.nanoTime() + next.shutdownTimeout().toNanos());
          metrics.reloaded(true);
          LOG.info("configuration reloaded from {}", next.source());
          return List.<String>of();
        })
        .recover(err -> {
          metrics.reloaded(false);
          List<String> errors = err instanceof ConfigException ce ? ce.errors()
              : List.of(String.valueOf(err.getMessage()));
          LOG.error("reload refused, still running the previous configuration:\n  {}", String.join("\n  ", errors));
          return Future.succeededFuture(errors);
        });
  }

  /** Drops removed servers' meters once nothing is in flight to them (or at the shutdown deadline). */
  private void pruneWhenIdle(List<UpstreamRegistry.Retired> retired, long deadlineNanos) {
    List<UpstreamRegistry.Retired> busy = new ArrayList<>();
    for (UpstreamRegistry.Retired r : retired) {
      if (r.state().inFlight() > 0 && System.nanoTime() - deadlineNanos < 0) {
        busy.add(r);
      } else {
        metrics.remove(r.upstream(), r.server(), r.state());
        pinned.remove(r.state());
      }
    }
    if (!busy.isEmpty()) {
      vertx.setTimer(100, t -> pruneWhenIdle(busy, deadlineNanos));
    }
  }

  private java.util.Map<String, tether.upstream.Upstream> liveUpstreams() {
    ProxySnapshot live = liveSnapshot();
    return live == null ? java.util.Map.of() : live.upstreams();
  }

  private ProxySnapshot liveSnapshot() {
    return proxy == null ? null : proxy.snapshot();
  }

  @Override
  public boolean shuttingDown() {
    return shuttingDown;
  }

  @Override
  public Supplier<ProxySnapshot> snapshot() {
    return proxy::snapshot;
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

  public TetherMetrics metrics() {
    return metrics;
  }

  /** Actual proxy listen ports, in config order. */
  public List<Integer> ports() {
    return proxy.ports();
  }

  /** The admin listener's actual port, or -1 when it is off. */
  public int adminPort() {
    return admin == null ? -1 : admin.port();
  }

  /** Graceful: stop accepting, let in-flight requests finish up to {@code shutdown_timeout}, then close. */
  public Future<Void> shutdown() {
    Duration grace = config.shutdownTimeout();
    shuttingDown = true;
    health.stop();
    resolver.stop();
    LOG.info("shutting down: finishing in-flight requests (up to {} ms)", grace.toMillis());
    Promise<Void> done = Promise.promise(); // not bound to an event loop that the close below stops
    proxy.shutdown(grace).onComplete(ar -> stop().onComplete(done));
    return done.future();
  }

  /** Closing Vert.x undeploys the verticles and closes the listeners at once. */
  public Future<Void> stop() {
    health.stop();
    resolver.stop();
    return vertx.close().andThen(ar -> {
      proxy.close();
      accessLog.close(); // the last requests' lines, written out
    });
  }
}
