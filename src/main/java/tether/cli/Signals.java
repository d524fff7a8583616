package tether.cli;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;
import tether.Tether;

/**
 * What the process does on each signal, as operators of nginx, HAProxy and Caddy expect:
 * <ul>
 *   <li>{@code TERM}, {@code INT}: stop accepting, let in-flight requests finish for up to {@code shutdown_timeout},
 *       exit 0 (Caddy, Traefik). A second one closes at once (the impatient Ctrl-C).
 *   <li>{@code HUP}: reload the configuration (nginx, HAProxy's master). Ignored from the start, as under
 *       {@code nohup}, it cannot be caught: a WARN says so and points at {@code POST /reload}.
 *   <li>{@code USR1}: reopen the log files (nginx; logrotate's {@code postrotate}).
 * </ul>
 * Handled here rather than in a shutdown hook, which would make the JVM exit 143 on TERM.
 */
final class Signals {

  private static final Logger LOG = LoggerFactory.getLogger(Signals.class);

  private Signals() {}

  /** Installs the handlers and blocks until a TERM or INT has stopped {@code tether}. @return the exit code, 0 */
  static int serveUntilStopped(Tether tether) {
    CompletableFuture<Void> stopped = new CompletableFuture<>();
    AtomicBoolean stopping = new AtomicBoolean();
    SignalHandler stop = sig -> {
      if (stopping.compareAndSet(false, true)) {
        LOG.info("SIG{} received", sig.getName());
        tether.shutdown().onComplete(ar -> stopped.complete(null));
      } else {
        LOG.warn("SIG{} received again: closing now, without waiting for requests in flight", sig.getName());
        tether.stop().onComplete(ar -> stopped.complete(null));
      }
    };
    if (!handle("TERM", stop)) {
      // the JVM keeps TERM to itself (-Xrs): drain in a shutdown hook instead, the exit code is then 143
      Runtime.getRuntime().addShutdownHook(new Thread(() -> tether.shutdown().await(), "tether-shutdown"));
    }
    handle("INT", stop);
    if (!handle("HUP", sig -> tether.reload())) {
      LOG.warn("SIGHUP is ignored by this process (started with nohup?): reload with POST /reload on the admin"
          + " listener instead");
    }
    handle("USR1", sig -> LogFiles.reopen());
    stopped.join();
    LOG.info("stopped");
    LogFiles.flushAndClose(); // the last requests' access-log lines, before System.exit
    return 0;
  }

  /** @return false when the signal cannot be caught: ignored since the process started, or reserved by the JVM */
  private static boolean handle(String name, SignalHandler handler) {
    try {
      // the JVM installs nothing for a signal that was ignored at start, and says so by returning SIG_IGN
      return Signal.handle(new Signal(name), handler) != SignalHandler.SIG_IGN;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
