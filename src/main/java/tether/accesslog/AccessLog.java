package tether.accesslog;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import tether.config.AccessLogConfig;
import tether.proxy.ExchangeRecord;
import tether.proxy.ProxyListener;

/**
 * The access log: one line per request (see {@link LineFormat}), text or JSON, to standard output or appended to
 * {@code access_log.path}, written by one thread in large writes so the event loop never waits for the disk.
 * {@link #apply} takes a reloaded {@code access_log} (format, path, on/off) without a restart; {@link #reopenAll}
 * is logrotate's SIGUSR1.
 */
public final class AccessLog implements ProxyListener, AutoCloseable {

  /** What one configuration writes to (sink null: the access log is off). */
  private record Output(AccessLogConfig config, LogSink sink) {}

  /** One event loop's encoder and lane for one output (both reuse their buffers). */
  private record Writer(Output output, LineFormat format, LogSink.Lane lane) {}

  private volatile Output output;
  private final AtomicLong dropped = new AtomicLong();
  /** One per AccessLog, not per output: a reload replaces a thread's writer, so the old sink is not kept by it. */
  private final ThreadLocal<Writer> writers = new ThreadLocal<>();

  /** @throws UncheckedIOException when {@code access_log.path} cannot be opened for appending */
  public AccessLog(AccessLogConfig config) {
    this.output = open(config, dropped);
  }

  /** Switches to {@code config} (a reload); the previous file gets what was queued for it, then closes. */
  public synchronized void apply(AccessLogConfig config) {
    Output old = output;
    if (Objects.equals(old.config(), config)) {
      return;
    }
    output = open(config, dropped);
    if (old.sink() != null) {
      old.sink().close();
    }
  }

  /** Opens every access-log file again by its name (after logrotate renamed it). @return the paths */
  public static List<String> reopenAll() {
    return LogSink.reopenAll();
  }

  private static Output open(AccessLogConfig config, AtomicLong dropped) {
    if (!config.enabled()) {
      return new Output(config, null);
    }
    try {
      return new Output(config, new LogSink(config.path(), dropped));
    } catch (IOException e) {
      throw new UncheckedIOException("access_log.path " + config.path() + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void exchangeEnded(ExchangeRecord r) {
    Output o = output;
    if (o.sink() != null) {
      Writer w = writers.get();
      if (w == null || w.output() != o) {
        boolean json = o.config().format() == AccessLogConfig.Format.JSON;
        w = new Writer(o, json ? LineFormat.json() : LineFormat.text(), o.sink().lane());
        writers.set(w);
      }
      AsciiLine line = w.format().encode(r, System.currentTimeMillis());
      w.lane().append(line.array(), line.length());
    }
  }

  /**
   * Lines dropped since the start because the writer could not keep up: an event loop never waits for the disk, and
   * holds at most 16 MiB of lines waiting for it ({@code tether_access_log_dropped_lines_total}).
   */
  public long dropped() {
    return dropped.get();
  }

  /** Writes out what is queued and closes the file. */
  @Override
  public void close() {
    Output o = output;
    if (o.sink() != null) {
      o.sink().close();
    }
  }
}
