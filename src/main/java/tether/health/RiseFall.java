package tether.health;

/**
 * The rise/fall counter of active checks: {@code fall} consecutive failures take an up server down, {@code rise}
 * consecutive successes bring a down one up. Used by one checker at a time (its own event loop).
 */
final class RiseFall {

  private final int rise;
  private final int fall;
  private int successes;
  private int failures;

  RiseFall(int rise, int fall) {
    this.rise = rise;
    this.fall = fall;
  }

  /** @return the state after this probe, given the state before it */
  boolean observe(boolean up, boolean ok) {
    if (ok) {
      successes++;
      failures = 0;
      return up || successes >= rise;
    }
    failures++;
    successes = 0;
    return up && failures < fall;
  }

  int successes() {
    return successes;
  }

  int failures() {
    return failures;
  }
}
