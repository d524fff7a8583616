package tether.upstream;

import io.vertx.core.net.SocketAddress;
import tether.config.PassiveHealthConfig;
import tether.config.ServerConfig;

/**
 * One server of an upstream as the request path sees it: its config, where it is dialled now ({@link #address()},
 * re-resolved when configured by host name) and its (shared) runtime state.
 */
public final class Backend {

  private final String upstream;
  private final ServerConfig config;
  private final int index;
  private final ResolvedAddress address;
  private final BackendState state;
  private final PassiveHealthConfig passive;

  Backend(String upstream, ServerConfig config, int index, PassiveHealthConfig passive, BackendState state,
          ResolvedAddress address) {
    this.passive = passive;
    this.upstream = upstream;
    this.config = config;
    this.index = index;
    this.address = address;
    this.state = state;
  }

  public String upstream() {
    return upstream;
  }

  public String name() {
    return config.name();
  }

  public ServerConfig config() {
    return config;
  }

  /** Position in its upstream's server list, for bit sets of servers already tried. */
  public int index() {
    return index;
  }

  /** The {@code ip:port} to dial now, or null while the server's host name does not resolve. */
  public SocketAddress address() {
    return address.current();
  }

  /** The configured address and what it resolves to. */
  public ResolvedAddress resolved() {
    return address;
  }

  public int weight() {
    return config.weight();
  }

  /** The upstream's passive health policy, which applies to this server. */
  public PassiveHealthConfig passive() {
    return passive;
  }

  public BackendState state() {
    return state;
  }

  @Override
  public String toString() {
    return upstream + "/" + config.name() + "(" + config.address() + ")";
  }
}
