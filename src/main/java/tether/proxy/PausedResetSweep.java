package tether.proxy;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.unix.Socket;
import io.netty.channel.unix.UnixChannel;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * io_uring only: closes a connection whose peer reset it while reading from it was paused, which Netty's io_uring
 * transport (4.2.18, unchanged in 4.2.20) may never report. Its POLLRDHUP is armed once per connection; when it
 * completes while a receive is in flight, and that receive empties the socket while reading is paused (auto-read
 * off), nothing is left armed to read the reset's error. Or the reset's POLLIN completes while reading is paused and
 * is forgotten, and the multishot POLLIN that stays armed does not fire again once reading resumes. Either way the
 * error (ECONNRESET) waits in the socket for a read that never comes, and the connection stays open until a timeout
 * ends it. Epoll reads the error at once.
 *
 * <p>So each event loop with io_uring connections reads, every {@link #PERIOD_MILLIS}, each one's pending socket
 * error ({@code getsockopt(SO_ERROR)}, which clears it) and closes those whose error ends a connection (reset, broken
 * pipe, timed out; not the soft error an ICMP unreachable leaves on a live one), as the transport would have on
 * reading it. The cost: a set insertion and
 * removal per connection, and per period and loop one {@code getsockopt} per open connection (about 0.3 µs each);
 * nothing runs on a loop without connections, nor on other transports. Not covered: a peer's FIN missed the same
 * way (no socket error: the connection stays until a Tether timeout ends it); and a backend that resets right after a
 * response its paused relay has not read yet is closed before that rest is read (epoll relays it whole, then reads
 * the reset).
 */
final class PausedResetSweep {

  private static final int EPIPE = 32;
  private static final int ECONNRESET = 104;
  private static final int ETIMEDOUT = 110;

  /** How often a loop's connections are checked: the longest a missed reset keeps a connection open. */
  private static final long PERIOD_MILLIS = 250;

  /** {@code -Dtether.pausedResetSweep=false} turns it off (to compare). */
  private static final boolean ENABLED =
      Boolean.parseBoolean(System.getProperty("tether.pausedResetSweep", "true"));

  /** Each event loop's sweep, owned by that loop's thread (where channels are added, removed and swept). */
  private static final FastThreadLocal<PausedResetSweep> SWEEP = new FastThreadLocal<>() {
    @Override
    protected PausedResetSweep initialValue() {
      return new PausedResetSweep();
    }
  };

  private final Set<Channel> channels = new LinkedHashSet<>();
  private ScheduledFuture<?> task;

  /** {@link #watch(Channel)} of a Vert.x connection's channel. */
  static void watch(io.vertx.core.http.HttpConnection connection) {
    if (connection instanceof io.vertx.core.net.impl.ConnectionBase base) {
      watch(base.channel());
    }
  }

  /** Watches {@code ch} until it closes, if it is a connection of Netty's io_uring transport; else does nothing. */
  static void watch(Channel ch) {
    if (!ENABLED || !(ch instanceof UnixChannel) || !ch.getClass().getName().startsWith("io.netty.channel.uring.")) {
      return;
    }
    EventLoop loop = ch.eventLoop();
    if (loop.inEventLoop()) {
      add(loop, ch);
    } else {
      loop.execute(() -> add(loop, ch));
    }
  }

  private static void add(EventLoop loop, Channel ch) {
    if (!ch.isOpen()) {
      return;
    }
    PausedResetSweep sweep = SWEEP.get();
    if (sweep.channels.add(ch)) {
      ch.closeFuture().addListener(f -> sweep.remove(ch));
      if (sweep.task == null) {
        sweep.task = loop.scheduleAtFixedRate(sweep::sweep, PERIOD_MILLIS, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
      }
    }
  }

  private void remove(Channel ch) {
    EventLoop loop = ch.eventLoop();
    if (!loop.inEventLoop()) {
      loop.execute(() -> remove(ch));
      return;
    }
    if (channels.remove(ch) && channels.isEmpty()) {
      task.cancel(false); // nothing runs on a loop without io_uring connections
      task = null;
    }
  }

  private void sweep() {
    List<Channel> reset = null;
    for (Channel ch : channels) {
      if (ch.isActive() && pendingError(ch)) {
        if (reset == null) {
          reset = new ArrayList<>();
        }
        reset.add(ch);
      }
    }
    if (reset != null) {
      for (Channel ch : reset) {
        ch.close(); // (its close listener takes it out of the set)
      }
    }
  }

  /** Whether the socket holds an error that ended the connection (a reset...), not read yet. Reading it clears it. */
  private static boolean pendingError(Channel ch) {
    try {
      if (((UnixChannel) ch).fd() instanceof Socket s && s.isOpen()) {
        int error = s.getSoError();
        // only errors that end a connection: SO_ERROR also hands out the soft error an ICMP unreachable leaves on a
        // live connection that TCP keeps retrying
        return error == ECONNRESET || error == EPIPE || error == ETIMEDOUT;
      }
      return false;
    } catch (java.io.IOException e) {
      return true; // the socket is gone: the connection is of no further use
    }
  }
}
