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
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where access-log lines go: each thread that logs (an event loop) appends its encoded lines to a {@link Lane} of
 * its own, a chain of 64 KiB chunks it fills in order, and one writer thread reads behind every lane and writes what
 * was appended in large writes to a file (appended) or standard output. Nothing is allocated or locked per line and
 * the writer is never signalled: it writes, then sleeps {@link #FLUSH_INTERVAL_NANOS}, so a line reaches the file
 * within ~10 ms (nginx's {@code access_log ... buffer= flush=}, per worker as there, with a far shorter flush).
 * A lane holds at most {@value #MAX_CHUNKS} chunks (16 MiB) waiting for the disk; beyond, lines are dropped and
 * counted, never waited for. Lines of one lane keep their order; two lanes' lines interleave by 10 ms batches.
 * {@link #reopenAll} opens the file again by its name after logrotate renamed it (nginx's USR1); {@link #close}
 * writes out what was appended. Logback is kept off this path: no per-line event objects or layouts.
 */
final class LogSink implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(LogSink.class);
  private static final Set<LogSink> OPEN = ConcurrentHashMap.newKeySet();
  static final int CHUNK_BYTES = 64 * 1024;
  static final int MAX_CHUNKS = 256;
  // waking the writer per line cost a fifth of a core at 30k req/s (futex wake + park, bench/results profile)
  private static final long FLUSH_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  private final String path;
  private final Queue<Lane> lanes = new ConcurrentLinkedQueue<>();
  private final AtomicLong dropped;
  private final Thread writer;
  private volatile boolean reopenRequested;
  private volatile boolean stopping;
  private OutputStream out;

  /**
   * @param path the file to append to; null for standard output
   * @param dropped where lines dropped because the writer could not keep up are counted (across reloads)
   */
  LogSink(String path, AtomicLong dropped) throws IOException {
    this.path = path;
    this.dropped = dropped;
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

  /** A new lane for the calling thread, which alone may then {@link Lane#append} to it. */
  Lane lane() {
    Lane lane = new Lane();
    lanes.add(lane);
    return lane;
  }

  /** Lanes open: one per thread that logged and has not ended (or whose last lines are not yet written). */
  int lanes() {
    return lanes.size();
  }

  /**
   * One thread's lines: the thread appends to the last chunk and links a new one when it is full; the writer reads
   * from the first, up to what was published, and recycles a chunk once a successor is linked and it is written.
   */
  final class Lane {
    /** The appending thread's chunk. */
    private Chunk last;
    /** The writer's chunk (set before the lane is published to the writer, then the writer's alone). */
    private Chunk first;
    /** Written chunks, back from the writer (one producer, one consumer). */
    private final Queue<Chunk> free = PlatformDependent.newFixedMpscQueue(MAX_CHUNKS);
    /** Chunks that exist (the appending thread adds, the writer subtracts an oversized one it drops). */
    private final AtomicInteger chunks = new AtomicInteger(1);
    /** The appending thread: once it has ended and its lines are written, the lane goes. */
    private final Thread owner = Thread.currentThread();

    private Lane() {
      first = last = new Chunk(CHUNK_BYTES);
    }

    /** Appends one line (bytes {@code [0, length)} of {@code line}); never blocks: dropped and counted when full. */
    void append(byte[] line, int length) {
      Chunk c = last;
      if (CHUNK_BYTES - c.limit < length || c.bytes.length != CHUNK_BYTES) {
        Chunk next = take(length);
        if (next == null) {
          dropped.incrementAndGet();
          return;
        }
        c.next = next; // after c's last publish: the writer reads c to its end, then moves on
        last = c = next;
      }
      System.arraycopy(line, 0, c.bytes, c.limit, length);
      c.limit += length;
      Chunk.PUBLISHED.lazySet(c, c.limit);
    }

    /** A recycled chunk, a new one, or null at the cap; a line longer than a chunk gets one of its size. */
    private Chunk take(int length) {
      if (length <= CHUNK_BYTES) {
        Chunk recycled = free.poll();
        if (recycled != null) {
          recycled.limit = 0;
          Chunk.PUBLISHED.lazySet(recycled, 0);
          return recycled;
        }
      }
      if (chunks.get() >= MAX_CHUNKS) {
        return null;
      }
      chunks.incrementAndGet();
      return new Chunk(Math.max(length, CHUNK_BYTES));
    }

    /** Writer thread: writes what was published since the last pass. */
    private void writeTo(OutputStream to) throws IOException {
      Chunk c = first;
      while (true) {
        writePublished(c, to);
        Chunk next = c.next;
        if (next == null) {
          return;
        }
        writePublished(c, to); // (published before next was linked: c's end)
        first = next;
        c.next = null;
        c.written = 0;
        if (c.bytes.length != CHUNK_BYTES || !free.offer(c)) {
          chunks.decrementAndGet();
        }
        c = next;
      }
    }

    private void writePublished(Chunk c, OutputStream to) throws IOException {
      int published = c.published;
      if (published > c.written) {
        to.write(c.bytes, c.written, published - c.written);
        c.written = published;
      }
    }
  }

  /** A run of whole lines: filled by the lane's thread up to {@code limit}, visible to the writer up to published. */
  private static final class Chunk {
    static final AtomicIntegerFieldUpdater<Chunk> PUBLISHED =
        AtomicIntegerFieldUpdater.newUpdater(Chunk.class, "published");
    final byte[] bytes;
    int limit;
    volatile int published;
    volatile Chunk next;
    /** The writer's: bytes already written. */
    int written;

    Chunk(int size) {
      bytes = new byte[size];
    }
  }

  private OutputStream open() throws IOException {
    return path == null ? System.out : new FileOutputStream(path, true);
  }

  private void drain() {
    while (true) {
      boolean last = stopping; // read before writing: what was appended before close() is written
      try {
        for (Lane lane : lanes) {
          boolean ended = !lane.owner.isAlive(); // (read before writing: what it appended is then all there)
          lane.writeTo(out);
          if (ended) {
            lanes.remove(lane);
          }
        }
        out.flush();
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
      // after every pass, not only an empty one: under load, one write per lane per 10 ms, not one per few lines
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

  /** Writes out what was appended (waiting up to a second), then closes the file. */
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
