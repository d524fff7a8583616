package tether.cli;

import tether.config.ServerConfig;
import tether.config.TetherConfig;
import tether.config.UpstreamConfig;

/** What a configuration will do, in words: listeners, upstreams and their failover semantics. */
final class ConfigSummary {

  private ConfigSummary() {}

  static String describe(TetherConfig config) {
    StringBuilder out = new StringBuilder();
    config.listen().forEach(l -> out.append("listen ").append(l.address()).append(':').append(l.port())
        .append('\n'));
    for (UpstreamConfig u : config.upstreams().values()) {
      out.append("upstream ").append(u.name()).append(": balance ").append(u.balance().name().toLowerCase())
          .append(", max_attempts ").append(u.maxAttempts()).append('\n');
      for (ServerConfig s : u.servers()) {
        out.append("  server ").append(s.name()).append(' ').append(s.address()).append(" weight ")
            .append(s.weight()).append(s.backup() ? " backup" : "").append('\n');
      }
    }
    return out.toString();
  }
}
