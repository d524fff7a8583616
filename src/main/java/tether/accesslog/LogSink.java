package tether.accesslog;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where access-log lines go: a bounded queue the event loops offer encoded lines to (never blocking: a full queue
 * drops the line and counts it), drained by one writer thread in large writes to a file (appended) or standard
 * output. {@link #reopen} opens the file again by its name after logrotate renamed it (nginx's USR1);
 * {@link #close} writes out what is queued. Logback is kept off this path: no per-line event objects or layouts.
 */
final class LogSink implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(LogSink.class);
  private static final Set<LogSink> OPEN = ConcurrentHashMap.newKeySet();
  private static final byte[] STOP = new byte[0];
  private static final int BATCH_BYTES = 256 * 1024;

  private final String path;
  private final BlockingQueue<byte[]> queue = new ArrayBlockingQueue<>(65_536);
  private final AtomicLong dropped = new AtomicLong();
  private final Thread writer;
  private volatile boolean reopenRequested;
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
        sink.queue.offer(new byte[0]); // wakes the writer
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
    List<byte[]> batch = new ArrayList<>(1024);
    byte[] buffer = new byte[BATCH_BYTES];
    boolean stopping = false;
    while (!stopping) {
      try {
        byte[] first = queue.poll(1, TimeUnit.SECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        queue.drainTo(batch, 4096);
        int used = 0;
        for (byte[] line : batch) {
          if (line == STOP) {
            stopping = true;
            continue;
          }
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
        out.write(buffer, 0, used);
        out.flush();
        batch.clear();
        if (reopenRequested) {
          reopenRequested = false;
          reopenNow();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (IOException e) {
        batch.clear();
        LOG.error("access log {}: {}", path == null ? "stdout" : path, e.toString());
      }
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
    try {
      queue.put(STOP);
      writer.join(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
