package tether.upstream.balancing;

import tether.upstream.Backend;

/** Picks one backend among a fixed list; built by a {@link BalancingPolicy}, safe to call from any thread. */
public interface Selector {

  /** Accepts or refuses a candidate (already tried, unavailable, ...). */
  interface Filter {
    boolean accept(Backend backend);
  }

  /**
   * @param hash  the request's key hash where the policy uses one (ip_hash), else ignored
   * @return the chosen backend, or null when the filter refuses them all
   */
  Backend select(long hash, Filter filter);
}
