package tether.upstream;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import tether.config.TetherConfig;
import tether.config.UpstreamConfig;

/**
 * Builds {@link Upstream} views from config and keeps every server's {@link BackendState} across reloads, keyed by
 * upstream and server name: a server that survives a reload keeps its health, counters and admin state.
 */
public final class UpstreamRegistry {

  private final Map<String, Map<String, BackendState>> states = new ConcurrentHashMap<>();

  public Map<String, Upstream> build(TetherConfig config) {
    Map<String, Upstream> upstreams = new LinkedHashMap<>();
    for (UpstreamConfig u : config.upstreams().values()) {
      upstreams.put(u.name(), new Upstream(u, states.computeIfAbsent(u.name(), n -> new ConcurrentHashMap<>())));
    }
    return upstreams;
  }
}
