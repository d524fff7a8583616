package tether.upstream;

import io.vertx.core.net.SocketAddress;
import java.time.Duration;
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
  private final ServerEvents events;
  /** {@link PassiveHealthConfig#failStatuses()} as a bit set over 0-1023 (every 3-digit status; no boxing). */
  private final long[] failStatuses = new long[16];

  Backend(String upstream, ServerConfig config, int index, PassiveHealthConfig passive, BackendState state,
          ResolvedAddress address, ServerEvents events) {
    this.events = events;
    this.passive = passive;
    this.upstream = upstream;
    this.config = config;
    this.index = index;
    this.address = address;
    this.state = state;
    for (int s : passive.failStatuses()) {
      if (s >= 0 && s < 64 * failStatuses.length) {
        failStatuses[s >>> 6] |= 1L << s;
      }
    }
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

  /** {@link String#valueOf} of {@link #address()}, made once per address (the access log's upstream_addr). */
  public String addressText() {
    return address.currentText();
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

  /**
   * An active probe's result, and how long it took, fed to the state machine with the upstream's
   * {@code rise}/{@code fall}.
   */
  public void reportProbe(boolean ok, String detail, long tookNanos, int rise, int fall) {
    announce(state.observeProbe(ok, detail, tookNanos, rise, fall, System.nanoTime()));
    events.probed(this, ok, tookNanos);
  }

  /** An active probe that got no answer within {@code timeout} (not counted while real traffic is answered). */
  public void reportProbeTimeout(String detail, Duration timeout, int rise, int fall) {
    announce(state.observeProbeTimeout(detail, timeout.toNanos(), rise, fall, System.nanoTime()));
    events.probed(this, false, timeout.toNanos());
  }

  /** A failure on real traffic (passive health): connect failure, timeout, reset, broken body, a failing status. */
  public void reportFailure(String reason) {
    BackendState.Ejection e = state.observeFailure(reason, passive, System.nanoTime());
    if (e != null) {
      announce(e.transition());
      events.ejected(this, e.duration());
    }
  }

  /** A response: a status in {@code fail_statuses} counts as a failure, anything else ends a run of failures. */
  public void reportResponse(int status) {
    if (status >= 0 && status < 64 * failStatuses.length && (failStatuses[status >>> 6] & (1L << status)) != 0) {
      reportFailure("status " + status);
    } else {
      state.observeSuccess(System.nanoTime());
    }
  }

  /** The ejection's time is up (the ejection timer calls this). */
  public void ejectionOver() {
    announce(state.ejectionOver(System.nanoTime()));
  }

  /** Lifts an ejection at once: the server moved to a new address. */
  public void readmit(String reason) {
    announce(state.readmit(reason, System.nanoTime()));
  }

  /** The operator's drain, disable or enable; {@code drainDeadlineNanos} is 0 for none. */
  public void admin(AdminState adminState, long drainDeadlineNanos, String reason) {
    announce(state.admin(adminState, drainDeadlineNanos, reason, System.nanoTime()));
  }

  private void announce(BackendState.Transition t) {
    if (t != null) {
      events.transition(this, t);
    }
  }

  @Override
  public String toString() {
    return upstream + "/" + config.name() + "(" + config.address() + ")";
  }
}
