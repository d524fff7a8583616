package tether.e2e;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * What a schedule does to a server while users click ({@link LoadRun#clickFor}), and when: the moment it hit the
 * server (the run's event), how long Tether's health checks took to mark it down, and to mark it up again.
 */
final class Chaos {

  /** Something done to a server: {@code Apache::kill}, {@code Apache::pause}, {@code Apache::start}... */
  @FunctionalInterface
  interface Step {
    void apply(Apache server) throws Exception;
  }

  private final TetherStatus status;
  private final long startNanos;
  /**
   * When the event began (wall clock, for /status times, and nanos) and when its step had returned; until then, the
   * run's start.
   */
  volatile long eventMillis = System.currentTimeMillis();
  volatile long eventNanos;
  volatile long eventDoneNanos;
  /** From the event to the check that marked the server down; from the healing step to the check that saw it up. */
  volatile Duration noticed = Duration.ZERO;
  volatile Duration back = Duration.ZERO;

  Chaos(TetherStatus status, long startNanos) {
    this.status = status;
    this.startNanos = startNanos;
    this.eventNanos = startNanos;
    this.eventDoneNanos = startNanos;
  }

  /** Sleeps until {@code at} after the start of the run. */
  void at(Duration at) throws InterruptedException {
    long left = startNanos + at.toNanos() - System.nanoTime();
    if (left > 0) {
      TimeUnit.NANOSECONDS.sleep(left);
    }
  }

  /** Does {@code step} to the server (the event of the run) and waits until the health checks mark it down. */
  void hit(Apache server, Step step) throws Exception {
    eventMillis = System.currentTimeMillis();
    eventNanos = System.nanoTime();
    step.apply(server);
    eventDoneNanos = System.nanoTime();
    noticed = status.awaitHealth(server.name(), false, eventMillis);
  }

  /** Does {@code step} (a start, a resume) to the server and waits until the health checks mark it up. */
  void heal(Apache server, Step step) throws Exception {
    long since = System.currentTimeMillis();
    step.apply(server);
    back = status.awaitHealth(server.name(), true, since);
  }
}
