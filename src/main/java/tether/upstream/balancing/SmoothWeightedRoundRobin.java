package tether.upstream.balancing;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import tether.upstream.Backend;

/**
 * nginx's smooth weighted round robin, precomputed: the sequence of one full cycle is built once, and a shared
 * atomic cursor walks it, so picking never locks. Weights 5,1,1 give a a b a c a a, not a a a a a b c.
 * A slot whose server is refused (down, draining, tried) is served by a second cursor that walks the same sequence
 * on its own, so a missing server's share is spread over the others by weight, as nginx balances over the eligible
 * peers only; stepping to the next slot instead would hand it all to one neighbour (four servers, one down:
 * 30/15/15 instead of 20/20/20).
 */
final class SmoothWeightedRoundRobin implements Selector {

  private final Backend[] sequence;
  private final AtomicInteger cursor = new AtomicInteger();
  private final AtomicInteger spill = new AtomicInteger();

  SmoothWeightedRoundRobin(List<Backend> backends) {
    int total = 0;
    for (Backend b : backends) {
      total += b.weight();
    }
    sequence = new Backend[total];
    int[] current = new int[backends.size()];
    for (int slot = 0; slot < total; slot++) {
      int best = 0;
      for (int i = 0; i < current.length; i++) {
        current[i] += backends.get(i).weight();
        if (current[i] > current[best]) {
          best = i;
        }
      }
      current[best] -= total;
      sequence[slot] = backends.get(best);
    }
  }

  @Override
  public Backend select(long hash, Filter filter) {
    int n = sequence.length;
    if (n == 0) {
      return null;
    }
    Backend first = sequence[Math.floorMod(cursor.getAndIncrement(), n)];
    if (filter.accept(first)) {
      return first;
    }
    for (int i = 0; i < n; i++) {
      Backend b = sequence[Math.floorMod(spill.getAndIncrement(), n)];
      if (filter.accept(b)) {
        return b;
      }
    }
    return null;
  }
}
