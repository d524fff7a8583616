package tether.upstream;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import tether.config.TetherConfig;
import tether.config.UpstreamConfig;

/**
 * Builds {@link Upstream} views from config and keeps every server's {@link BackendState} across reloads, keyed by
 * upstream and server name: a server that survives a reload keeps its health, counters and admin state. Resolved
 * addresses are kept the same way, keyed by the configured {@code host:port}, so a reload does not forget them.
 */
public final class UpstreamRegistry {

  private final Map<String, Map<String, BackendState>> states = new ConcurrentHashMap<>();
  private final Map<String, Maintenance> maintenance = new ConcurrentHashMap<>();
  private volatile Map<String, ResolvedAddress> addresses = Map.of();
  private final ServerEvents events;

  /** @param events told of every server's status changes, probes and ejections */
  public UpstreamRegistry(ServerEvents events) {
    this.events = events;
  }

  /** For tests: nobody listens. */
  public UpstreamRegistry() {
    this(ServerEvents.NONE);
  }

  /** A server a reload removed: its state, to be dropped from meters once its last request ended. */
  public record Retired(String upstream, String server, BackendState state) {}

  /**
   * Forgets the servers {@code published} no longer has (a server that comes back later starts afresh);
   * requests in flight keep their Backend and finish normally.
   */
  public List<Retired> retire(TetherConfig published) {
    List<Retired> retired = new ArrayList<>();
    for (var upstream : states.entrySet()) {
      UpstreamConfig u = published.upstreams().get(upstream.getKey());
      upstream.getValue().entrySet().removeIf(server -> {
        boolean gone = u == null || u.servers().stream().noneMatch(c -> c.name().equals(server.getKey()));
        if (gone) {
          retired.add(new Retired(upstream.getKey(), server.getKey(), server.getValue()));
        }
        return gone;
      });
    }
    states.values().removeIf(Map::isEmpty);
    maintenance.keySet().removeIf(name -> !published.upstreams().containsKey(name));
    return retired;
  }

  public Map<String, Upstream> build(TetherConfig config) {
    Map<String, ResolvedAddress> previous = addresses;
    Map<String, ResolvedAddress> next = new HashMap<>();
    Map<String, Upstream> upstreams = new LinkedHashMap<>();
    for (UpstreamConfig u : config.upstreams().values()) {
      upstreams.put(u.name(), new Upstream(u, states.computeIfAbsent(u.name(), n -> new ConcurrentHashMap<>()),
          s -> next.computeIfAbsent(s.address(),
              a -> previous.containsKey(a) ? previous.get(a) : ResolvedAddress.of(s.host(), s.port())), events,
          maintenance.computeIfAbsent(u.name(), n -> new Maintenance())));
    }
    addresses = Map.copyOf(next);
    return upstreams;
  }
}
