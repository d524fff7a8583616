package tether.proxy;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import tether.config.TetherConfig;
import tether.sticky.StickySessions;
import tether.upstream.UpstreamRegistry;

/**
 * The proxy listeners on {@code workers} event loops, reading one {@link ProxySnapshot} that {@link #apply}
 * replaces atomically; requests in flight finish on the snapshot they started with. A change to what the
 * listeners themselves are built from (addresses, workers, limits, idle timeout) deploys a new set of listeners
 * next to the old one (Vert.x shares a port between them) and then retires the old set. A new snapshot is first
 * given to {@code warmUp} (which resolves the host names it brings) and published once that completes.
 */
public final class ProxyServer {

  private record Deployment(String id, List<ProxyVerticle> instances, TetherConfig config) {}

  private final Vertx vertx;
  private final UpstreamRegistry registry;
  private final ProxyListener listener;
  private final Function<ProxySnapshot, Future<?>> warmUp;
  private final StickySessions sticky = new StickySessions();
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

  public Future<Void> start(TetherConfig config) {
    ProxySnapshot first = build(config);
    return warmUp.apply(first).compose(v -> {
      snapshot.set(first);
      return deploy(config);
    }).mapEmpty();
  }

  /** Publishes {@code config}; rebinds the listeners only when what they are built from changed. */
  public Future<Void> apply(TetherConfig config) {
    ProxySnapshot next = build(config);
    return warmUp.apply(next).compose(v -> {
      Deployment old = deployment;
      snapshot.set(next);
      if (old == null || sameListeners(old.config, config)) {
        return Future.succeededFuture();
      }
      return deploy(config).compose(d -> retire(old, config.shutdownTimeout()));
    });
  }

  private ProxySnapshot build(TetherConfig config) {
    return ProxySnapshot.of(config, registry.build(config), sticky::forUpstream);
  }

  private Future<Deployment> deploy(TetherConfig config) {
    List<ProxyVerticle> instances = new CopyOnWriteArrayList<>();
    return vertx.deployVerticle(() -> {
      ProxyVerticle v = new ProxyVerticle(snapshot::get, listener, config, clientConnections);
      instances.add(v);
      return v;
    }, new DeploymentOptions().setInstances(config.workers())).map(id -> {
      deployment = new Deployment(id, List.copyOf(instances), config);
      return deployment;
    });
  }

  private Future<Void> retire(Deployment old, Duration grace) {
    return Future.all(old.instances.stream().map(v -> v.shutdown(grace)).toList())
        .transform(ar -> vertx.undeploy(old.id));
  }

  private static boolean sameListeners(TetherConfig a, TetherConfig b) {
    return a.listen().equals(b.listen()) && a.workers() == b.workers() && a.limits().equals(b.limits())
        && Objects.equals(a.timeouts().idle(), b.timeouts().idle());
  }

  public ProxySnapshot snapshot() {
    return snapshot.get();
  }

  /** Actual listen ports, in config order (useful when config said port 0). */
  public List<Integer> ports() {
    Deployment d = deployment;
    return d == null || d.instances.isEmpty() ? List.of() : d.instances.get(0).actualPorts();
  }

  /** Stops accepting and lets in-flight requests finish, up to {@code grace}. */
  public Future<Void> shutdown(Duration grace) {
    Deployment d = deployment;
    return d == null ? Future.succeededFuture()
        : Future.all(d.instances.stream().map(v -> v.shutdown(grace)).toList()).mapEmpty();
  }
}
