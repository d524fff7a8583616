package tether.upstream.balancing;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import tether.upstream.Backend;

/** Fewest in-flight requests relative to weight; ties go to a random one of them, so they share the load. */
final class LeastConnections implements Selector {

  private final Backend[] backends;

  LeastConnections(List<Backend> backends) {
    this.backends = backends.toArray(Backend[]::new);
  }

  @Override
  public Backend select(long hash, Filter filter) {
    int n = backends.length;
    int start = n == 0 ? 0 : ThreadLocalRandom.current().nextInt(n);
    Backend best = null;
    for (int i = 0; i < n; i++) {
      Backend b = backends[(start + i) % n];
      if (filter.accept(b) && (best == null || lessLoaded(b, best))) {
        best = b;
      }
    }
    return best;
  }

  static boolean lessLoaded(Backend a, Backend b) {
    return (long) a.state().inFlight() * b.weight() < (long) b.state().inFlight() * a.weight();
  }
}
