package tether.upstream.balancing;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import tether.upstream.Backend;

/** Two random candidates, the less loaded (in-flight ÷ weight) wins; falls back to a full scan if both refused. */
final class PowerOfTwoChoices implements Selector {

  private final Backend[] backends;
  private final LeastConnections fallback;

  PowerOfTwoChoices(List<Backend> backends) {
    this.backends = backends.toArray(Backend[]::new);
    this.fallback = new LeastConnections(backends);
  }

  @Override
  public Backend select(long hash, Filter filter) {
    int n = backends.length;
    if (n == 0) {
      return null;
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    Backend a = backends[random.nextInt(n)];
    Backend b = backends[random.nextInt(n)];
    boolean okA = filter.accept(a);
    boolean okB = b != a && filter.accept(b);
    if (okA && okB) {
      return LeastConnections.lessLoaded(b, a) ? b : a;
    }
    if (okA || okB) {
      return okA ? a : b;
    }
    return fallback.select(hash, filter);
  }
}
