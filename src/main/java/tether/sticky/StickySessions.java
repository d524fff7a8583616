package tether.sticky;

import tether.upstream.Upstream;

/** Builds the {@link StickySession} an upstream's {@code sticky:} config asks for. */
public final class StickySessions {

  private StickySessions() {}

  public static StickySession create(Upstream upstream) {
    return StickySession.NONE;
  }
}
