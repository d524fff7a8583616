package tether.upstream;

/** The servers one request has already tried, in order; small and allocation-light (max_attempts is tiny). */
public final class Attempts {

  private final Backend[] tried;
  private int count;

  public Attempts(int max) {
    tried = new Backend[max];
  }

  public boolean contains(Backend b) {
    for (int i = 0; i < count; i++) {
      if (tried[i] == b) {
        return true;
      }
    }
    return false;
  }

  public void add(Backend b) {
    if (count < tried.length && !contains(b)) {
      tried[count++] = b;
    }
  }

  public int count() {
    return count;
  }

  public boolean exhausted() {
    return count >= tried.length;
  }
}
