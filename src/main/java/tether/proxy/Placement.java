package tether.proxy;

import tether.config.Balance;
import tether.sticky.Pin;
import tether.upstream.Attempts;
import tether.upstream.Backend;
import tether.upstream.Upstream;
import tether.upstream.balancing.HashRing;

/**
 * Where one request goes: stickiness first, then balancing. The pinned server while it may keep its user
 * ({@link Upstream#pinRefusal}); else a re-pin whose target is a function of the user's key over the servers that
 * may take it (so a page's parallel requests that all found the pin dead land together); else the balancer's choice.
 * Servers this request already tried are never chosen again. Event-loop confined, one per exchange.
 */
final class Placement {

  /** What stickiness did for this request, as the access log and debug header name it. */
  enum StickyOutcome {
    HIT, NEW, REPIN;

    final String label = name().toLowerCase();
  }

  private final Upstream upstream;
  private final Pin pin;
  private final boolean sticky;
  private final Attempts tried;
  private final ProxyListener listener;
  private final String clientAddress;
  private StickyOutcome outcome;

  /** @param sticky the upstream has a sticky mode (a balanced user gets a new pin) */
  Placement(Upstream upstream, Pin pin, boolean sticky, ProxyListener listener, String clientAddress) {
    this.upstream = upstream;
    this.pin = pin;
    this.sticky = sticky;
    this.tried = new Attempts(upstream.config().maxAttempts());
    this.listener = listener;
    this.clientAddress = clientAddress;
  }

  /** The server for the next attempt, now counted as tried; null when none may take the request. */
  Backend next() {
    Backend chosen = choose();
    if (chosen != null) {
      tried.add(chosen);
    }
    return chosen;
  }

  private Backend choose() {
    Backend pinned = pin.target();
    long now = System.nanoTime();
    if (pinned != null && !tried.contains(pinned)) {
      String refusal = upstream.pinRefusal(pinned, now);
      if (refusal == null) {
        outcome = StickyOutcome.HIT;
        return pinned;
      }
      repin(refusal);
    } else if (pin.invalid() != null && outcome == null) {
      repin(pin.invalid());
    }
    Backend chosen;
    if (pin.hash() != 0) {
      chosen = upstream.pickByHash(pin.hash(), tried);
    } else if (outcome == StickyOutcome.REPIN && pin.userKey() != null) {
      // the user's new server is a function of its key: a page's parallel requests all land on one server
      chosen = upstream.pickByHash(HashRing.hash(pin.userKey()), tried);
    } else {
      chosen = upstream.pick(balancingHash(), tried);
    }
    if (chosen != null && outcome == null && sticky) {
      outcome = StickyOutcome.NEW;
    }
    return chosen;
  }

  /** The user leaves its pinned server, for {@code reason} (down, connect_failed, backup_handback...). */
  void repin(String reason) {
    if (outcome == null || outcome == StickyOutcome.HIT) {
      outcome = StickyOutcome.REPIN;
      listener.repinned(upstream.name(), reason);
    }
  }

  /** After {@code failed} failed: the user moves if it was its pinned server. */
  void failed(Backend failed, String reason) {
    if (failed == pin.target()) {
      repin(reason);
    }
  }

  private long balancingHash() {
    return upstream.config().balance() == Balance.IP_HASH ? HashRing.hash(clientAddress) : 0;
  }

  Pin pin() {
    return pin;
  }

  /** Tells the listeners what stickiness did for the response {@code servedBy} gives (a hit, or a new pin). */
  void announce(Backend servedBy) {
    if (outcome == StickyOutcome.HIT) {
      listener.stickyHit(servedBy, pin.userKey());
    } else if (outcome == StickyOutcome.NEW) {
      listener.newPin(upstream.name());
    }
  }

  /** The {@code X-Tether-Upstream} value ({@code debug_header}): the server and what stickiness did. */
  String debugHeader(Backend servedBy) {
    return servedBy.name() + "; sticky=" + (outcome == null ? "none" : outcome.label);
  }

  /** null when stickiness did nothing (no sticky mode, or no server chosen yet). */
  StickyOutcome outcome() {
    return outcome;
  }

  int attempts() {
    return tried.count();
  }

  int attemptsLeft() {
    return upstream.config().maxAttempts() - tried.count();
  }
}
