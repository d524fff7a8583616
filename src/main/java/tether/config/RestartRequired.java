package tether.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The keys a reload cannot apply to a running process: {@code workers} and {@code transport} (the event loops are made at
 * start),
 * {@code admin} (the operator listener that serves the reload itself), and a TLS listener's {@code tls.engine} on a
 * port that stays bound. A reload that changes one is refused whole, naming each, rather than half applied; every
 * other key applies on reload (certificates and {@code access_log} included).
 */
public final class RestartRequired {

  private RestartRequired() {}

  /**
   * @return one message per changed key, {@code "workers: changed from 2 to 4: needs a restart"} ({@code transport}:
   *     from/to as resolved on this machine); empty if none
   */
  public static List<String> changes(TetherConfig running, TetherConfig next) {
    List<String> changed = new ArrayList<>();
    check(changed, "workers", running.workers(), next.workers());
    // (auto and what it resolves to here are the same setting)
    check(changed, "transport", running.transport().resolve().configName(), next.transport().resolve().configName());
    check(changed, "admin", running.admin(), next.admin());
    tlsEngines(changed, running, next);
    return changed;
  }

  /**
   * A port keeps the TLS engine it was first bound with (its TLS context is the first server's, see
   * {@code ProxyVerticle.refreshTls}): certificates change on reload, the engine of a port still bound does not.
   */
  private static void tlsEngines(List<String> changed, TetherConfig running, TetherConfig next) {
    for (int i = 0; i < next.listen().size(); i++) {
      ListenConfig l = next.listen().get(i);
      for (ListenConfig r : running.listen()) {
        if (l.secure() && r.secure() && r.port() == l.port() && r.address().equals(l.address())
            && r.tls().engine().resolve() != l.tls().engine().resolve()) {
          changed.add("listen[" + i + "].tls.engine: changed from " + r.tls().engine().resolve().name().toLowerCase()
              + " to " + l.tls().engine().resolve().name().toLowerCase() + " on a bound port: needs a restart"
              + " (the running process keeps the previous value; nothing was reloaded)");
        }
      }
    }
  }

  private static void check(List<String> changed, String key, Object was, Object now) {
    if (!Objects.equals(was, now)) {
      changed.add(next(key, was, now));
    }
  }

  private static String next(String key, Object was, Object now) {
    return key + ": changed" + (was instanceof Integer || was instanceof String ? " from " + was + " to " + now : "")
        + ": needs a restart (the running process keeps the previous value; nothing was reloaded)";
  }
}
