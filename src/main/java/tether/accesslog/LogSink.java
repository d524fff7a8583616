package tether.accesslog;

import io.netty.util.internal.PlatformDependent;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where access-log lines go: a bounded lock-free queue (Netty's MPSC array queue) the event loops offer encoded
 * lines to (never blocking: a full queue drops the line and counts it), drained by one writer thread in large
 * writes to a file (appended) or standard output. The writer is never signalled per line: it drains, writes, then
 * sleeps {@link #FLUSH_INTERVAL_NANOS}, so a line reaches the file within ~10 ms (nginx's
 * {@code access_log ... buffer= flush=} trade, with a flush far shorter than nginx's usual seconds).
 * {@link #reopenAll} opens the file again by its name after logrotate renamed it (nginx's USR1);
 * {@link #close} writes out what is queued. Logback is kept off this path: no per-line event objects or layouts.
 */
final class LogSink implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(LogSink.class);
  private static final Set<LogSink> OPEN = ConcurrentHashMap.newKeySet();
  private static final int BATCH_BYTES = 256 * 1024;
  // waking the writer per line cost a fifth of a core at 30k req/s (futex wake + park, bench/results profile)
  private static final long FLUSH_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  private final String path;
  private final Queue<byte[]> queue = PlatformDependent.newFixedMpscQueue(65_536);
  private final AtomicLong dropped = new AtomicLong();
  private final Thread writer;
  private volatile boolean reopenRequested;
  private volatile boolean stopping;
  private OutputStream out;

  /** @param path the file to append to; null for standard output */
  LogSink(String path) throws IOException {
    this.path = path;
    this.out = open();
    writer = new Thread(this::drain, "tether-access-log");
    writer.setDaemon(true);
    writer.start();
    OPEN.add(this);
  }

  /** Reopens every open file sink by its name (SIGUSR1). @return the paths reopened */
  static List<String> reopenAll() {
    List<String> paths = new ArrayList<>();
    for (LogSink sink : OPEN) {
      if (sink.path != null) {
        sink.reopenRequested = true;
        LockSupport.unpark(sink.writer);
        paths.add(sink.path);
      }
    }
    return paths;
  }

  /** Queues one encoded line; never blocks. */
  void offer(byte[] line) {
    if (!queue.offer(line)) {
      dropped.incrementAndGet();
    }
  }

  /** Lines dropped because the writer could not keep up. */
  long dropped() {
    return dropped.get();
  }

  private OutputStream open() throws IOException {
    return path == null ? System.out : new FileOutputStream(path, true);
  }

  private void drain() {
    byte[] buffer = new byte[BATCH_BYTES];
    while (true) {
      boolean last = stopping; // read before draining: what was offered before close() is written
      int used = 0;
      try {
        for (byte[] line = queue.poll(); line != null; line = queue.poll()) {
          if (used + line.length > buffer.length) {
            out.write(buffer, 0, used);
            used = 0;
          }
          if (line.length > buffer.length) {
            out.write(line);
          } else {
            System.arraycopy(line, 0, buffer, used, line.length);
            used += line.length;
          }
        }
        if (used > 0) {
          out.write(buffer, 0, used);
          out.flush();
        }
      } catch (IOException e) {
        LOG.error("access log {}: {}", path == null ? "stdout" : path, e.toString());
      }
      if (reopenRequested) {
        reopenRequested = false;
        reopenNow();
      }
      if (last) {
        break;
      }
      // after every pass, not only an empty one: under load, one write per 10 ms instead of one per few lines
      LockSupport.parkNanos(this, FLUSH_INTERVAL_NANOS);
    }
    closeStream();
  }

  private void reopenNow() {
    try {
      OutputStream next = open();
      closeStream();
      out = next;
    } catch (IOException e) {
      LOG.error("cannot reopen access log {}: {}", path, e.toString());
    }
  }

  private void closeStream() {
    if (path != null) {
      try {
        out.close();
      } catch (IOException e) {
        LOG.warn("closing access log {}: {}", path, e.toString());
      }
    }
  }

  /** Writes out what is queued (waiting up to a second), then closes the file. */
  @Override
  public void close() {
    OPEN.remove(this);
    stopping = true;
    LockSupport.unpark(writer);
    try {
      writer.join(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
