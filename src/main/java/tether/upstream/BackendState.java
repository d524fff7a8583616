package tether.upstream;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import tether.config.PassiveHealthConfig;

/**
 * One server's runtime state and the one state machine over it, kept across reloads apart from config. It takes
 * active probes (rise/fall), passive reports from real traffic (consecutive failures in a window eject, doubling on
 * relapse) and the operator's admin state, and it alone answers what the server is ({@link #status}) and whether it
 * may take a new user ({@link #mayTakeNewUsers}) or keep a pinned one ({@link #pinRefusal}): the proxy, the status
 * page and the metrics all ask here. Pingora's {@code observe_health} is the model. Inputs return the
 * {@link Transition} they caused (null when the status stayed), for {@link Backend} to announce.
 *
 * <p>Probes come from one event loop at a time; passive reports from any, so those fields are atomic or volatile and
 * the rare ejection itself is synchronized. The request path only reads volatiles.
 */
public final class BackendState {

  /** What a server is, in order of precedence: admin disable, then health checks, then ejection, then drain. */
  public enum Status {
    UP, DRAIN, DOWN, EJECTED, DISABLED;

    private final String label = name().toLowerCase();

    public String label() {
      return label;
    }

    /** Takes traffic of some kind (new users, or at least pinned ones). */
    public boolean serving() {
      return this == UP || this == DRAIN;
    }
  }

  /** A change of status and why. */
  public record Transition(Status from, Status to, String reason) {}

  /** A passive ejection: how long, and the transition it caused (null when the server was not serving). */
  public record Ejection(Duration duration, Transition transition) {}

  private final RiseFall riseFall = new RiseFall();
  private volatile boolean healthy;
  private volatile long ejectedUntilNanos;
  private volatile boolean ejectionPending;
  private final AtomicInteger consecutiveFailures = new AtomicInteger();
  private volatile long failWindowStartNanos;
  private volatile long readmitAtNanos;
  private volatile int doublings;
  private volatile long availableSinceNanos = System.nanoTime() - Long.MAX_VALUE / 4;
  /** When the server last answered a real request (a response that is not a failure). */
  private volatile long lastAnswerNanos = System.nanoTime() - Long.MAX_VALUE / 4;
  private volatile AdminState adminState = AdminState.ACTIVE;
  private volatile long drainDeadlineNanos;
  private volatile String lastTransition = "";
  private volatile String lastCheck = "";
  private volatile long lastCheckMillis;
  private volatile long lastCheckNanos = -1;
  private volatile long statusSinceNanos = System.nanoTime();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final LongAdder requests = new LongAdder();
  private final LongAdder failures = new LongAdder();

  public BackendState(boolean startDown) {
    this.healthy = !startDown;
  }

  // ---- what the server is

  public Status status(long nowNanos) {
    return statusWith(nowNanos - ejectedUntilNanos < 0);
  }

  private Status statusWith(boolean ejected) {
    if (adminState == AdminState.DISABLED) {
      return Status.DISABLED;
    }
    if (!healthy) {
      return Status.DOWN;
    }
    if (ejected) {
      return Status.EJECTED;
    }
    return adminState == AdminState.DRAIN ? Status.DRAIN : Status.UP;
  }

  /** May be given a new user: up (not draining, disabled, down or ejected). */
  public boolean mayTakeNewUsers(long nowNanos) {
    return status(nowNanos) == Status.UP;
  }

  /**
   * Why a user pinned here must move, or null when it may stay: up, or draining before the drain deadline. The
   * upstream adds what only it knows (a backup hands its users back once a primary is up).
   */
  public String pinRefusal(long nowNanos) {
    Status s = status(nowNanos);
    if (s == Status.DRAIN) {
      return drainDeadlineNanos != 0 && nowNanos - drainDeadlineNanos >= 0 ? "drain_deadline" : null;
    }
    return s == Status.UP ? null : s.label();
  }

  // ---- inputs

  /**
   * An active probe's result: {@code fall} consecutive failures take the server down, {@code rise} consecutive
   * successes bring it up (HAProxy's rise/fall). {@code tookNanos} is how long the probe took, for the status page.
   */
  public Transition observeProbe(boolean ok, String detail, long tookNanos, int rise, int fall, long nowNanos) {
    lastCheck = detail;
    lastCheckMillis = System.currentTimeMillis();
    lastCheckNanos = tookNanos;
    Status before = status(nowNanos);
    boolean up = riseFall.observe(healthy, ok, rise, fall);
    if (up == healthy) {
      return null;
    }
    healthy = up;
    String reason = up ? riseFall.successes() + " consecutive successes"
        : riseFall.failures() + " consecutive failures, last: " + detail;
    return changed(before, status(nowNanos), reason, nowNanos);
  }

  /**
   * A probe that got no answer within {@code timeoutNanos}: a failure, unless real requests show the server answering
   * (one answered within the last half of that timeout). Then it is a slow moment, not an outage: a starved machine
   * delays a probe on a new connection while pooled ones are served, and with {@code fall: 1} one late probe would move
   * every user of the server. A hung server answers nothing, so its timeouts count, at worst one probe later.
   */
  public Transition observeProbeTimeout(String detail, long timeoutNanos, int rise, int fall, long nowNanos) {
    long sinceAnswer = nowNanos - lastAnswerNanos;
    if (sinceAnswer > timeoutNanos / 2) {
      return observeProbe(false, detail, timeoutNanos, rise, fall, nowNanos);
    }
    lastCheck = detail + " (not counted: answered a request " + Math.max(0, sinceAnswer) / 1_000_000 + "ms before)";
    lastCheckMillis = System.currentTimeMillis();
    lastCheckNanos = timeoutNanos;
    return null;
  }

  /**
   * A failure on real traffic: {@code max_fails} in a row within {@code fail_window} eject the server for
   * {@code eject_for}, doubled for each relapse right after readmission, up to {@code max_eject_for} (nginx's
   * {@code max_fails}/{@code fail_timeout}, Envoy's outlier detection). Null unless this failure ejected it.
   */
  public Ejection observeFailure(String reason, PassiveHealthConfig cfg, long nowNanos) {
    if (cfg.maxFails() == 0) {
      return null;
    }
    if (nowNanos - failWindowStartNanos > cfg.failWindow().toNanos()) {
      failWindowStartNanos = nowNanos;
      consecutiveFailures.set(0);
    }
    if (consecutiveFailures.incrementAndGet() < cfg.maxFails()) {
      return null;
    }
    return eject(reason, cfg, nowNanos);
  }

  private synchronized Ejection eject(String reason, PassiveHealthConfig cfg, long nowNanos) {
    if (nowNanos - ejectedUntilNanos < 0) {
      return null; // another event loop ejected it first
    }
    boolean relapse = readmitAtNanos != 0 && nowNanos - readmitAtNanos < cfg.ejectFor().toNanos();
    doublings = relapse ? Math.min(doublings + 1, 20) : 0;
    long nanos = Math.min(cfg.ejectFor().toNanos() << doublings, cfg.maxEjectFor().toNanos());
    Status before = status(nowNanos);
    readmitAtNanos = nowNanos + nanos;
    ejectedUntilNanos = nowNanos + nanos;
    ejectionPending = true;
    consecutiveFailures.set(0);
    String why = "for " + nanos / 1_000_000 + "ms: " + cfg.maxFails() + " consecutive failures, last: " + reason;
    Transition t = changed(before, status(nowNanos), why, nowNanos);
    if (t == null) {
      lastTransition = "ejected " + why; // down or disabled already: the ejection still counts once it is back
    }
    return new Ejection(Duration.ofNanos(nanos), t);
  }

  /** A response that is not a failure: the run of consecutive failures is over, and the server is answering. */
  public void observeSuccess(long nowNanos) {
    if (nowNanos - lastAnswerNanos > 1_000_000) { // at most one write per millisecond: cores share this field
      lastAnswerNanos = nowNanos;
    }
    if (consecutiveFailures.get() > 0) {
      consecutiveFailures.set(0);
    }
  }

  /** Called when an ejection's time is up: the server is what its other inputs say (maybe still down). */
  public Transition ejectionOver(long nowNanos) {
    if (!ejectionPending || nowNanos - ejectedUntilNanos < 0) {
      return null;
    }
    ejectionPending = false;
    return changed(statusWith(true), status(nowNanos), "ejection over", nowNanos);
  }

  /** Lifts an ejection at once (the server moved to a new address: a new host, as Envoy treats it). */
  public Transition readmit(String reason, long nowNanos) {
    if (nowNanos - ejectedUntilNanos >= 0) {
      return null;
    }
    Status before = status(nowNanos);
    ejectedUntilNanos = nowNanos;
    ejectionPending = false;
    return changed(before, status(nowNanos), reason, nowNanos);
  }

  /** The operator's word: {@code drainDeadlineNanos} (0 = none) applies to DRAIN only. */
  public Transition admin(AdminState state, long drainDeadlineNanos, String reason, long nowNanos) {
    Status before = status(nowNanos);
    this.drainDeadlineNanos = state == AdminState.DRAIN ? drainDeadlineNanos : 0;
    this.adminState = state;
    Transition t = changed(before, status(nowNanos), reason, nowNanos);
    if (t == null) {
      lastTransition = reason;
    }
    return t;
  }

  /** Records a change; a server that starts serving again starts its slow-start ramp now. */
  private Transition changed(Status before, Status after, String reason, long nowNanos) {
    if (before == after) {
      return null;
    }
    if (after.serving() && !before.serving()) {
      availableSinceNanos = nowNanos;
    }
    statusSinceNanos = nowNanos;
    // "down: 2 consecutive failures, last: status 500", "ejected for 1000ms: ...", "up: ejection over"
    lastTransition = after.label() + (reason.startsWith("for ") ? " " : ": ") + reason;
    return new Transition(before, after, reason);
  }

  /** Sets the health-check verdict directly (tests, and configs without checks never call it). */
  void healthy(boolean healthy, long nowNanos) {
    Status before = status(nowNanos);
    this.healthy = healthy;
    changed(before, status(nowNanos), "set", nowNanos);
  }

  // ---- what the status page shows

  public boolean healthy() {
    return healthy;
  }

  public boolean ejected(long nowNanos) {
    return nowNanos - ejectedUntilNanos < 0;
  }

  public long ejectedUntilNanos() {
    return ejectedUntilNanos;
  }

  /** Since when the server has been serving again: the slow-start ramp starts there. */
  public long availableSinceNanos() {
    return availableSinceNanos;
  }

  public AdminState adminState() {
    return adminState;
  }

  /** 0 when the drain has no deadline. */
  public long drainDeadlineNanos() {
    return drainDeadlineNanos;
  }

  /** The last change of status, in words ("down: 3 consecutive failed checks, last: timeout after 500ms"). */
  public String lastTransition() {
    return lastTransition;
  }

  /** The last active check's outcome in words. */
  public String lastCheck() {
    return lastCheck;
  }

  /** When the last active check ended (epoch ms, 0 = never). */
  public long lastCheckMillis() {
    return lastCheckMillis;
  }

  /** How long the last active check took (-1 = never checked). */
  public long lastCheckNanos() {
    return lastCheckNanos;
  }

  /** Since when the status has been what it is ({@link System#nanoTime}): the last transition, or creation. */
  public long statusSinceNanos() {
    return statusSinceNanos;
  }

  // ---- requests

  public int inFlight() {
    return inFlight.get();
  }

  public void requestStarted() {
    inFlight.incrementAndGet();
    requests.increment();
  }

  public void requestEnded(boolean failed) {
    inFlight.decrementAndGet();
    if (failed) {
      failures.increment();
    }
  }

  public long requests() {
    return requests.sum();
  }

  public long failures() {
    return failures.sum();
  }
}
