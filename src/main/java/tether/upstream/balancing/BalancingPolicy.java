package tether.upstream.balancing;

import java.util.List;
import tether.config.Balance;
import tether.upstream.Backend;

/** Builds a {@link Selector} over a fixed list of backends. */
public interface BalancingPolicy {

  Selector newSelector(List<Backend> backends);

  static BalancingPolicy of(Balance balance) {
    return switch (balance) {
      case ROUND_ROBIN -> SmoothWeightedRoundRobin::new;
      case LEAST_CONN -> LeastConnections::new;
      case RANDOM_TWO -> PowerOfTwoChoices::new;
      case IP_HASH -> backends -> new HashRing(backends)::select;
    };
  }
}
