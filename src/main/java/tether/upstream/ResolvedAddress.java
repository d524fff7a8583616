package tether.upstream;

import io.netty.util.NetUtil;
import io.vertx.core.net.SocketAddress;
import java.util.List;

/**
 * Where a configured server address ({@code host:port}) is dialled now: runtime state, apart from the config
 * record, shared by every server configured with the same {@code host:port} and kept across reloads.
 *
 * <p>An IP literal is its own answer, fixed for good. A host name holds the IP literal it last resolved to (an
 * {@code ip:port} {@link SocketAddress}, so the connection pool changes with the address and connections to the old
 * one just idle out), or none while it does not resolve: then its servers fail as a connect failure, nothing
 * dialled. Written only by {@code tether.resolve.ServerResolver}; read with one volatile read on the request path.
 */
public final class ResolvedAddress {

  /**
   * One answer: an address, or why there is none (exactly one of the two is non-null); {@code text} is the
   * address as {@link String#valueOf} gives it, made once (the access log writes it per request).
   */
  private record Answer(SocketAddress address, String failure, String text) {
    Answer(SocketAddress address, String failure) {
      this(address, failure, String.valueOf(address));
    }
  }

  private static final Answer PENDING = new Answer(null, "not resolved yet");

  private final String host;
  private final int port;
  private final boolean literal;
  private volatile Answer answer;

  private ResolvedAddress(String host, int port) {
    this.host = host;
    this.port = port;
    this.literal = NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host);
    this.answer = literal ? new Answer(SocketAddress.inetSocketAddress(port, host), null) : PENDING;
  }

  /** @param host a host name or an IP literal (IPv6 without brackets); port 1-65535 */
  public static ResolvedAddress of(String host, int port) {
    return new ResolvedAddress(host, port);
  }

  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  /** The configured form, {@code host:port} ({@code [v6]:port}). */
  public String configured() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }

  /** An IP literal: never resolved. */
  public boolean literal() {
    return literal;
  }

  /** The {@code ip:port} to dial, or null while the name does not resolve. */
  public SocketAddress current() {
    return answer.address;
  }

  /** {@link String#valueOf} of {@link #current()} ({@code "null"} while there is none), made once per answer. */
  public String currentText() {
    return answer.text;
  }

  /** The current address as {@code ip:port} ({@code [v6]:port}), or null. */
  public String shown() {
    SocketAddress a = answer.address;
    return a == null ? null : (a.host().indexOf(':') >= 0 ? "[" + a.host() + "]" : a.host()) + ":" + a.port();
  }

  /** Why there is no address (null when there is one). */
  public String failure() {
    return answer.failure;
  }

  /** Never answered yet (neither resolved nor failed). */
  public boolean pending() {
    return answer == PENDING;
  }

  /**
   * Records a lookup's answer, {@code ips} as IP literals in the resolver's order. The current address is kept while
   * it is still among them (rotating DNS answers do not move a server, as HAProxy does); otherwise the first wins.
   *
   * @return true when the address changed (including from none)
   */
  public boolean resolvedTo(List<String> ips) {
    if (ips.isEmpty()) {
      return failed("no address in the answer");
    }
    SocketAddress now = answer.address;
    if (now != null && ips.contains(now.host())) {
      return false;
    }
    answer = new Answer(SocketAddress.inetSocketAddress(port, ips.get(0)), null);
    return true;
  }

  /** @return true when this is news: the name had an address, or had never been answered */
  public boolean failed(String why) {
    boolean news = answer.failure == null || answer == PENDING;
    answer = new Answer(null, why);
    return news;
  }

  @Override
  public String toString() {
    String shown = shown();
    return configured() + (literal ? "" : " -> " + (shown == null ? "unresolved (" + answer.failure + ")" : shown));
  }
}
