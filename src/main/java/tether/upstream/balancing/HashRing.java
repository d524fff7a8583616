package tether.upstream.balancing;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import tether.upstream.Backend;

/**
 * Consistent hashing (a ketama-style ring, 160 points per unit of weight). A key maps to the first point at or
 * after its hash; refused servers are skipped clockwise, so a server's failure moves only its own keys.
 * Points depend on server names only, so every Tether instance with the same config maps keys alike.
 */
public final class HashRing {

  private static final int POINTS_PER_WEIGHT = 160;

  private final long[] points;
  private final Backend[] owners;
  private final int distinct;
  private final int maxIndex;

  public HashRing(List<Backend> backends) {
    int total = 0;
    for (Backend b : backends) {
      total += b.weight() * POINTS_PER_WEIGHT;
    }
    long[] hashes = new long[total];
    Backend[] byPoint = new Backend[total];
    int p = 0;
    for (Backend b : backends) {
      for (int i = 0; i < b.weight() * POINTS_PER_WEIGHT; i++) {
        hashes[p] = hash(b.name() + "#" + i);
        byPoint[p++] = b;
      }
    }
    Integer[] order = new Integer[total];
    for (int i = 0; i < total; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (x, y) -> Long.compareUnsigned(hashes[x], hashes[y]));
    points = new long[total];
    owners = new Backend[total];
    for (int i = 0; i < total; i++) {
      points[i] = hashes[order[i]];
      owners[i] = byPoint[order[i]];
    }
    distinct = backends.size();
    maxIndex = backends.stream().mapToInt(Backend::index).max().orElse(0);
  }

  public Backend select(long hash, Selector.Filter filter) {
    if (points.length == 0) {
      return null;
    }
    int i = firstAtOrAfter(hash);
    long[] refused = new long[(maxIndex >>> 6) + 1];
    int refusedCount = 0;
    for (int step = 0; step < points.length && refusedCount < distinct; step++) {
      Backend b = owners[(i + step) % points.length];
      int bit = b.index();
      if ((refused[bit >>> 6] & (1L << bit)) != 0) {
        continue;
      }
      if (filter.accept(b)) {
        return b;
      }
      refused[bit >>> 6] |= 1L << bit;
      refusedCount++;
    }
    return null;
  }

  private int firstAtOrAfter(long hash) {
    int lo = 0;
    int hi = points.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (Long.compareUnsigned(points[mid], hash) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo == points.length ? 0 : lo;
  }

  /** 64-bit FNV-1a, then a murmur finalizer: cheap, stable across JVMs and well spread. */
  public static long hash(CharSequence key) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < key.length(); i++) {
      h ^= key.charAt(i);
      h *= 0x100000001b3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    return h ^ (h >>> 33);
  }
}
