package tether.proxy;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import tether.config.TetherConfig;
import tether.limits.Limiters;
import tether.sticky.StickySessions;
import tether.upstream.UpstreamRegistry;

/**
 * The proxy listeners on {@code workers} event loops, reading one {@link ProxySnapshot} that a reload replaces in
 * one swap; requests in flight finish on the snapshot they started with. A reload is a transaction
 * (Envoy's cluster warming, Pingora's {@code Backends::do_update}): {@link #stage} builds the snapshot, resolves the
 * host names it brings and, when what the listeners are built from changed (addresses, limits, timeouts, pool
 * sizes), binds a new set of listeners next to the old one (Vert.x shares a port between them); nothing is visible
 * yet. Then {@link #publish} swaps the snapshot and retires the old listeners, or {@link #abandon} drops what was
 * staged. A failure while staging (a port that cannot be bound) changes nothing. TLS listeners re-read their
 * certificates on every reload (config load reads the files): a renewed certificate needs no restart.
 */
public final class ProxyServer {

  private record Deployment(String id, List<ProxyVerticle> instances, TetherConfig config) {}

  private final Vertx vertx;
  private final UpstreamRegistry registry;
  private final ProxyListener listener;
  private final Function<ProxySnapshot, Future<?>> warmUp;
  private final StickySessions sticky = new StickySessions();
  private final Limiters limiters = new Limiters();
  private final AtomicReference<ProxySnapshot> snapshot = new AtomicReference<>();
  private volatile Deployment deployment;
  private final java.util.concurrent.atomic.AtomicInteger clientConnections =
      new java.util.concurrent.atomic.AtomicInteger();

  public ProxyServer(Vertx vertx, UpstreamRegistry registry, ProxyListener listener,
                     Function<ProxySnapshot, Future<?>> warmUp) {
    this.warmUp = warmUp;
    this.vertx = vertx;
    this.registry = registry;
    this.listener = listener;
  }

  /** A configuration built, resolved and bound, not yet visible. */
  public static final class Staged {
    private final TetherConfig config;
    private final ProxySnapshot snapshot;
    private final Deployment listeners; // null: the running listeners serve it

    private Staged(TetherConfig config, ProxySnapshot snapshot, Deployment listeners) {
      this.config = config;
      this.snapshot = snapshot;
      this.listeners = listeners;
    }

    public ProxySnapshot snapshot() {
      return snapshot;
    }
  }

  public Future<Void> start(TetherConfig config) {
    ProxySnapshot first = build(config);
    return warmUp.apply(first).compose(v -> {
      snapshot.set(first);
      return deploy(config);
    }).map(d -> {
      deployment = d;
      return null;
    });
  }

  /**
   * Builds everything {@code config} needs without publishing it. Fails (a listener that cannot bind, as a
   * {@link tether.config.ListenException}) with nothing changed and nothing left bound.
   */
  public Future<Staged> stage(TetherConfig config) {
    ProxySnapshot next = build(config);
    return warmUp.apply(next).compose(v -> {
      Deployment running = deployment;
      if (running == null || sameListeners(running.config, config)) {
        return Future.succeededFuture(new Staged(config, next, null));
      }
      return deploy(config).compose(d -> refreshTls(d).transform(ar -> {
        if (ar.succeeded()) {
          return Future.succeededFuture(new Staged(config, next, d));
        }
        return vertx.undeploy(d.id).transform(x -> Future.failedFuture(ar.cause()));
      }));
    });
  }

  /** Makes {@code staged} live in one swap; the listeners it replaces finish their requests and close. */
  public Future<Void> publish(Staged staged) {
    snapshot.set(staged.snapshot);
    sticky.retain(staged.snapshot.sticky().values()); // a sticky mode a reload replaced lets its store go
    if (staged.listeners == null) {
      return Future.succeededFuture();
    }
    Deployment old = deployment;
    deployment = staged.listeners;
    return retire(old, staged.config.shutdownTimeout());
  }

  /** Drops what {@link #stage} bound. */
  public Future<Void> abandon(Staged staged) {
    ProxySnapshot live = snapshot.get();
    if (live != null) {
      sticky.retain(live.sticky().values());
    }
    return staged.listeners == null ? Future.succeededFuture() : vertx.undeploy(staged.listeners.id);
  }

  private ProxySnapshot build(TetherConfig config) {
    return ProxySnapshot.of(config, registry.build(config), sticky::forUpstream, limiters);
  }

  private Future<Deployment> deploy(TetherConfig config) {
    List<ProxyVerticle> instances = new CopyOnWriteArrayList<>();
    return vertx.deployVerticle(() -> {
      ProxyVerticle v = new ProxyVerticle(snapshot::get, listener, config, clientConnections);
      instances.add(v);
      return v;
    }, new DeploymentOptions().setInstances(config.workers()))
        .map(id -> new Deployment(id, List.copyOf(instances), config));
  }

  /**
   * New listeners share their ports with the running ones, and with them the first server's TLS context: the
   * certificates just read (a renewed file) replace it here, for new connections on those ports.
   */
  private static Future<?> refreshTls(Deployment d) {
    return d.instances.isEmpty() ? Future.succeededFuture() : d.instances.get(0).refreshTls();
  }

  private Future<Void> retire(Deployment old, Duration grace) {
    return Future.all(old.instances.stream().map(v -> v.shutdown(grace)).toList())
        .transform(ar -> vertx.undeploy(old.id));
  }

  /**
   * What a listener set and its backend pools are built from: a change rebinds them. The listen entries carry the
   * certificates' PEM text as read at load, so a renewed certificate file counts as a change.
   */
  private static boolean sameListeners(TetherConfig a, TetherConfig b) {
    return a.listen().equals(b.listen()) && a.workers() == b.workers() && a.limits().equals(b.limits())
        && a.http2().equals(b.http2())
        && a.timeouts().equals(b.timeouts()) && poolSizes(a).equals(poolSizes(b));
  }

  private static List<Integer> poolSizes(TetherConfig c) {
    return c.upstreams().values().stream().map(u -> u.poolSize()).toList();
  }

  public ProxySnapshot snapshot() {
    return snapshot.get();
  }

  /** Actual listen ports, in config order (useful when config said port 0). */
  public List<Integer> ports() {
    Deployment d = deployment;
    return d == null || d.instances.isEmpty() ? List.of() : d.instances.get(0).actualPorts();
  }

  /** Releases what the sticky modes hold (store connections); call once Vert.x is closed. */
  public void close() {
    sticky.close();
  }

  /** Stops accepting and lets in-flight requests finish, up to {@code grace}. */
  public Future<Void> shutdown(Duration grace) {
    Deployment d = deployment;
    return d == null ? Future.succeededFuture()
        : Future.all(d.instances.stream().map(v -> v.shutdown(grace)).toList()).mapEmpty();
  }
}
