package tether.proxy;

import io.vertx.core.http.HttpClientConnection;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.net.SocketAddress;
import tether.upstream.Backend;

/**
 * One try of a request on one server: which server, on which connection, how far it got. An exchange has one
 * current attempt; a retry starts a new one. Event-loop confined.
 */
final class Attempt {

  final Backend backend;
  /**
   * The {@code ip:port} this attempt dials (null: the server's name did not resolve), read once when it starts: a
   * server named by host name may move while the attempt is under way.
   */
  final SocketAddress address;
  /** On a connection opened for this attempt alone (not pooled); closed when the exchange ends. */
  final boolean dedicated;
  final long startNanos;
  HttpClientRequest request;
  HttpClientConnection connection;
  BackendConnections.Use use;
  /** Times the wait for the response once the request is sent; cancelled when the attempt ends. */
  SilenceTimeout silence;
  boolean reused;
  Failover.Phase phase = Failover.Phase.NOTHING_SENT;
  boolean responded;
  /** Its failure is in the exchange's list of failed attempts (the access log's upstream_status). */
  boolean failureNoted;
  private boolean open = true;
  /** Superseded by another attempt: its late callbacks are ignored. */
  boolean abandoned;

  Attempt(Backend backend, boolean dedicated) {
    this(backend, dedicated, System.nanoTime());
  }

  /** @param startNanos when it started ({@link System#nanoTime()}), if the caller just read the clock */
  Attempt(Backend backend, boolean dedicated, long startNanos) {
    this.backend = backend;
    this.address = backend.address();
    this.dedicated = dedicated;
    this.startNanos = startNanos;
    backend.state().requestStarted();
  }

  /** Ends the server's in-flight count once; {@code failed} counts a failure against it. */
  void end(boolean failed) {
    if (open) {
      open = false;
      if (silence != null) {
        silence.cancel();
      }
      backend.state().requestEnded(failed);
      if (use != null && !failed) {
        use.requestEnded(System.nanoTime());
      }
      if (dedicated && connection != null) {
        connection.close();
      }
    }
  }
}
