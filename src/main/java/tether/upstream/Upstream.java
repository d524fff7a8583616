package tether.upstream;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import tether.config.ServerConfig;
import tether.config.UpstreamConfig;
import tether.upstream.balancing.BalancingPolicy;
import tether.upstream.balancing.HashRing;
import tether.upstream.balancing.Selector;

/** An immutable view of one upstream: its backends and selectors. Rebuilt on reload; the states carry over. */
public final class Upstream {

  private final UpstreamConfig config;
  private final List<Backend> backends;
  private final List<Backend> primaryList;
  private final Map<String, Backend> byName = new HashMap<>();
  private final Map<String, Backend> byRoute = new HashMap<>();
  private final Selector primaries;
  private final Selector backups;
  private final HashRing ring;
  private final HashRing backupRing;
  private final long slowStartNanos;
  private final Maintenance maintenance;

  Upstream(UpstreamConfig config, Map<String, BackendState> states, Function<ServerConfig, ResolvedAddress> addresses,
           ServerEvents events, Maintenance maintenance) {
    this.config = config;
    this.maintenance = maintenance;
    List<Backend> all = new ArrayList<>();
    List<Backend> primary = new ArrayList<>();
    List<Backend> backup = new ArrayList<>();
    for (int i = 0; i < config.servers().size(); i++) {
      var server = config.servers().get(i);
      boolean startDown = config.health() != null && config.health().startDown();
      Backend b = new Backend(config.name(), server, i, config.passive(),
          states.computeIfAbsent(server.name(), n -> new BackendState(startDown)), addresses.apply(server), events);
      all.add(b);
      byName.put(server.name(), b);
      byRoute.putIfAbsent(server.route(), b);
      (server.backup() ? backup : primary).add(b);
    }
    this.backends = List.copyOf(all);
    this.primaryList = List.copyOf(primary);
    BalancingPolicy policy = BalancingPolicy.of(config.balance());
    this.primaries = policy.newSelector(primary);
    this.backups = backup.isEmpty() ? null : policy.newSelector(backup);
    this.slowStartNanos = config.slowStart().toNanos();
    this.ring = new HashRing(primary);
    this.backupRing = new HashRing(backup);
  }

  public String name() {
    return config.name();
  }

  public UpstreamConfig config() {
    return config;
  }

  public List<Backend> backends() {
    return backends;
  }

  /** The maintenance switch, shared by every snapshot of this upstream (kept across reloads). */
  public Maintenance maintenance() {
    return maintenance;
  }

  /** null if there is no server of that name. */
  public Backend byName(String name) {
    return byName.get(name);
  }

  /** The server whose {@code route} (session-id suffix) this is, or null. */
  public Backend byRoute(String route) {
    return byRoute.get(route);
  }

  /**
   * Picks a server for a request that has no usable pin: primaries first, backups only when no primary is
   * available; servers in {@code tried} are skipped.
   */
  public Backend pick(long hash, Attempts tried) {
    long now = System.nanoTime();
    Selector.Filter open = open(tried, now);
    Backend chosen = primaries.select(hash, new RampGate(open, now));
    if (chosen == null) {
      chosen = primaries.select(hash, open); // the ramp must not refuse the last server standing
    }
    if (chosen == null && backups != null) {
      chosen = backups.select(hash, open);
    }
    return chosen;
  }

  /** The primary server a key hashes to, whatever its state (consistent hashing). */
  public Backend ringOwner(long hash) {
    return ring.select(hash, b -> true);
  }

  /** Like {@link #pick} but by consistent hashing: refused servers are skipped clockwise on the ring. */
  public Backend pickByHash(long hash, Attempts tried) {
    Selector.Filter open = open(tried, System.nanoTime());
    Backend chosen = ring.select(hash, open);
    return chosen != null ? chosen : backupRing.select(hash, open);
  }

  /** Servers this request has not tried that may take new users. */
  private static Selector.Filter open(Attempts tried, long now) {
    return b -> !tried.contains(b) && b.state().mayTakeNewUsers(now);
  }

  /**
   * Why a user pinned to {@code b} must move, or null when it may stay: the server's own answer
   * ({@link BackendState#pinRefusal}), and for a backup, {@code backup_handback} once a primary may take users
   * again (HAProxy's backup servers; nginx's {@code backup}): backups hold users only while no primary can.
   */
  public String pinRefusal(Backend b, long now) {
    String refusal = b.state().pinRefusal(now);
    if (refusal == null && b.config().backup() && anyPrimaryTakesNewUsers(now)) {
      return "backup_handback";
    }
    return refusal;
  }

  private boolean anyPrimaryTakesNewUsers(long now) {
    for (Backend p : primaryList) {
      if (p.state().mayTakeNewUsers(now)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Slow start in a pick: a ramping server is accepted with a probability that grows linearly from 0 to 1, and
   * asked once per pick (refused, it does not get a second draw when the selector looks further).
   */
  private final class RampGate implements Selector.Filter {
    private final Selector.Filter open;
    private final long now;
    private Backend refused;

    RampGate(Selector.Filter open, long now) {
      this.open = open;
      this.now = now;
    }

    @Override
    public boolean accept(Backend b) {
      if (b == refused || !open.accept(b)) {
        return false;
      }
      if (!rampAccepts(b, now)) {
        refused = b;
        return false;
      }
      return true;
    }
  }

  /** During slow start a server is accepted with a probability that grows linearly from 0 to 1. */
  private boolean rampAccepts(Backend b, long now) {
    if (slowStartNanos <= 0) {
      return true;
    }
    long elapsed = now - b.state().availableSinceNanos();
    return elapsed >= slowStartNanos || ThreadLocalRandom.current().nextLong(slowStartNanos) < elapsed;
  }
}
