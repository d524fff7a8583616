package tether.proxy;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import tether.config.TetherConfig;
import tether.sticky.StickySessions;
import tether.upstream.UpstreamRegistry;

/**
 * The proxy listeners on {@code workers} event loops, reading one {@link ProxySnapshot} that {@link #apply}
 * replaces atomically; requests in flight finish on the snapshot they started with.
 */
public final class ProxyServer {

  private final Vertx vertx;
  private final UpstreamRegistry registry;
  private final ProxyListener listener;
  private final StickySessions sticky = new StickySessions();
  private final AtomicReference<ProxySnapshot> snapshot = new AtomicReference<>();
  private final List<ProxyVerticle> instances = new CopyOnWriteArrayList<>();
  private String deploymentId;

  public ProxyServer(Vertx vertx, UpstreamRegistry registry, ProxyListener listener) {
    this.vertx = vertx;
    this.registry = registry;
    this.listener = listener;
  }

  public Future<Void> start(TetherConfig config) {
    apply(config);
    return vertx.deployVerticle(() -> {
      ProxyVerticle v = new ProxyVerticle(snapshot::get, listener);
      instances.add(v);
      return v;
    }, new DeploymentOptions().setInstances(config.workers())).map(id -> {
      deploymentId = id;
      return null;
    });
  }

  /** Builds the snapshot for {@code config} and publishes it with one atomic swap. */
  public void apply(TetherConfig config) {
    snapshot.set(ProxySnapshot.of(config, registry.build(config), sticky::forUpstream));
  }

  public ProxySnapshot snapshot() {
    return snapshot.get();
  }

  /** Actual listen ports, in config order (useful when config said port 0). */
  public List<Integer> ports() {
    return instances.isEmpty() ? List.of() : instances.get(0).actualPorts();
  }

  public Future<Void> stop() {
    return deploymentId == null ? Future.succeededFuture() : vertx.undeploy(deploymentId);
  }
}
