package tether.upstream;

/**
 * The rise/fall counter of active checks (HAProxy's {@code rise}/{@code fall}): {@code fall} consecutive failures
 * take an up server down, {@code rise} consecutive successes bring a down one up. Fed by one checker at a time.
 */
final class RiseFall {

  private int successes;
  private int failures;

  /** @return the verdict after this probe, given the verdict before it */
  boolean observe(boolean up, boolean ok, int rise, int fall) {
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
