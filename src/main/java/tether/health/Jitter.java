package tether.health;

import java.util.random.RandomGenerator;

/** Spreads probes so that servers (and Tether instances) do not check in lockstep. */
final class Jitter {

  private Jitter() {}

  /** The first probe: anywhere within one interval. */
  static long firstDelayMillis(long intervalMillis, RandomGenerator random) {
    return 1 + random.nextLong(Math.max(1, intervalMillis));
  }

  /** Later probes: the interval ±10 %. */
  static long nextDelayMillis(long intervalMillis, RandomGenerator random) {
    long spread = intervalMillis / 10;
    return Math.max(1, intervalMillis - spread + (spread == 0 ? 0 : random.nextLong(2 * spread + 1)));
  }
}
