package tether.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The keys a reload cannot apply to a running process: {@code workers} (the event loops are made at start) and
 * {@code admin} (the operator listener that serves the reload itself). A reload that changes one is refused whole,
 * naming each, rather than half applied; every other key applies on reload.
 */
public final class RestartRequired {

  private RestartRequired() {}

  /** @return one message per changed key, {@code "workers: changed from 2 to 4: needs a restart"}; empty if none */
  public static List<String> changes(TetherConfig running, TetherConfig next) {
    List<String> changed = new ArrayList<>();
    check(changed, "workers", running.workers(), next.workers());
    check(changed, "admin", running.admin(), next.admin());
    return changed;
  }

  private static void check(List<String> changed, String key, Object was, Object now) {
    if (!Objects.equals(was, now)) {
      changed.add(next(key, was, now));
    }
  }

  private static String next(String key, Object was, Object now) {
    return key + ": changed" + (was instanceof Integer ? " from " + was + " to " + now : "")
        + ": needs a restart (the running process keeps the previous value; nothing was reloaded)";
  }
}
