package tether.proxy;

import java.util.Objects;
import tether.upstream.Backend;

/**
 * What every failed attempt gets before {@link Failover}'s decision is acted on, on either request path
 * ({@link ProxyExchange#attemptFailed}; {@link FastExchange} while its connection closes, when Vert.x takes no
 * handover): its failure in the access log's {@code upstream_status}, the server blamed (passive health, metrics)
 * unless it was the keep-alive race, the decision, the attempt ended, and for a retry the retry counted (and, for
 * another server, the failed one left out of the user's placement). The caller then starts the next attempt or
 * answers.
 */
final class FailedAttempt {

  private FailedAttempt() {}

  /**
   * @param freshRetried whether this request was already sent again on a fresh connection (once at most)
   * @return the decision, already accounted for: the caller only starts the attempt it names, or answers
   */
  static Failover.Decision settle(Attempt a, Failover.Kind kind, Failover.Request request, Placement placement,
                                  boolean freshRetried, AttemptLog log, ProxyListener listener) {
    Backend failed = a.backend;
    log.failed(a, kind.label());
    if (kind.blamesServer()) {
      blame(a, kind, listener);
    }
    Failover.Decision decision = Failover.decide(kind, a.phase, request, placement.attemptsLeft(), freshRetried);
    a.end(kind.blamesServer());
    switch (decision.action()) {
      case RETRY_SAME_SERVER_FRESH_CONNECTION -> listener.retried(failed, kind.label());
      case RETRY_ELSEWHERE -> {
        placement.failed(failed, kind.label());
        listener.retried(failed, kind.label());
      }
      default -> { }
    }
    return decision;
  }

  /**
   * {@code a} failed as {@code kind}: the listeners hear of it (metrics, the resolver), and passive health counts it
   * unless the server's name has moved since the attempt dialled: that failure is the old address's, and counted it
   * would eject the server at its new one, where nothing would lift it (Envoy's DNS clusters likewise drop a host's
   * outlier state with its address).
   */
  static void blame(Attempt a, Failover.Kind kind, ProxyListener listener) {
    Backend backend = a.backend;
    if (Objects.equals(a.address, backend.address())) {
      backend.reportFailure(kind.label());
    }
    listener.backendFailed(backend, kind.label());
  }
}
