package tether.proxy;

import io.vertx.core.Future;
import tether.sticky.Pin;
import tether.upstream.Upstream;

/**
 * What the fast path leaves to the {@link ProxyExchange} that takes over its request ({@link FastPath}): the pin
 * still being looked up, or the placement and the attempt that failed before any response byte reached the
 * client, with how it failed ({@code kind}, a protocol switch nobody asked for included), and the request id the
 * first backend got. The exchange carries on from there as if the attempt had been its own.
 */
record Handover(Upstream upstream, Future<Pin> pin, Placement placement, Attempt attempt, Failover.Kind kind,
                String requestId) {

  /** The pin is not known yet (a shared store is asked): nothing was tried. */
  static Handover pending(Upstream upstream, Future<Pin> pin, String requestId) {
    return new Handover(upstream, pin, null, null, null, requestId);
  }

  /** {@code attempt} (null when no server could be chosen) failed as {@code kind}. */
  static Handover failed(Upstream upstream, Placement placement, Attempt attempt, Failover.Kind kind,
                         String requestId) {
    return new Handover(upstream, null, placement, attempt, kind, requestId);
  }
}
