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
 * At most {@value #MAX_WAITING_BYTES} bytes of chunks wait for the disk, all lanes together (whatever the number of
 * event loops; the old queue held 65,536 lines); beyond, lines are dropped and counted, never waited for. A lane
 * keeps {@value #FREE_PER_LANE} written chunks for reuse, the rest go to the collector. A write that fails is not
 * retried: its lines are counted as dropped, and the failure is logged once until writes succeed again. Lines of one
 * lane keep their order; two lanes' lines interleave by 10 ms batches. {@link #reopenAll} opens the file again by
 * its name after logrotate renamed it (nginx's USR1); {@link #close} writes out what was appended (a line appended
 * while the last pass runs may be lost). Logback is kept off this path: no per-line event objects or layouts.
 */
final class LogSink implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(LogSink.class);
  private static final Set<LogSink> OPEN = ConcurrentHashMap.newKeySet();
  static final int CHUNK_BYTES = 64 * 1024;
  static final int MAX_WAITING_BYTES = 16 * 1024 * 1024;
  static final int FREE_PER_LANE = 2;
  // waking the writer per line cost a fifth of a core at 30k req/s (futex wake + park, bench/results profile)
  private static final long FLUSH_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  private final String path;
  private final Queue<Lane> lanes = new ConcurrentLinkedQueue<>();
  private final AtomicLong dropped;
  /** Bytes of the chunks lanes are filling or the writer has not finished: reserved by take, freed when written. */
  private final AtomicLong waiting = new AtomicLong();
  private final Thread writer;
  private volatile boolean reopenRequested;
  private volatile boolean stopping;
  private OutputStream out;
  /** The writer's: the last write failed (logged once until one succeeds). */
  private boolean failing;

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

  /** Bytes of chunks held for lines not yet written (at most {@link #MAX_WAITING_BYTES}). */
  long waitingBytes() {
    return waiting.get();
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
    /** Written chunks kept for reuse, back from the writer (one producer, one consumer). */
    private final Queue<Chunk> free = PlatformDependent.newFixedMpscQueue(FREE_PER_LANE);
    /** The appending thread: once it has ended and its lines are written, the lane goes. */
    private final Thread owner = Thread.currentThread();

    private Lane() {
      waiting.addAndGet(CHUNK_BYTES);
      first = last = new Chunk(CHUNK_BYTES);
    }

    /** Appends one line (bytes {@code [0, length)} of {@code line}); never blocks: dropped and counted when full. */
    void append(byte[] line, int length) {
      if (stopping) {
        dropped.incrementAndGet(); // closed (a reload replaced this sink): nobody writes it any more
        return;
      }
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

    /** A recycled chunk or a new one, or null past the sink's budget; a line longer than a chunk gets its own. */
    private Chunk take(int length) {
      int size = Math.max(length, CHUNK_BYTES);
      if (waiting.addAndGet(size) > MAX_WAITING_BYTES) {
        waiting.addAndGet(-size);
        return null;
      }
      Chunk recycled = size == CHUNK_BYTES ? free.poll() : null;
      if (recycled == null) {
        return new Chunk(size);
      }
      recycled.limit = 0;
      Chunk.PUBLISHED.lazySet(recycled, 0);
      return recycled;
    }

    /** Writer thread: writes what was published since the last pass, releasing the chunks written. */
    private void writeTo(OutputStream to) {
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
        waiting.addAndGet(-c.bytes.length);
        if (c.bytes.length == CHUNK_BYTES) {
          free.offer(c); // (full: the collector takes it)
        }
        c = next;
      }
    }

    private void writePublished(Chunk c, OutputStream to) {
      int published = c.published;
      if (published > c.written) {
        writeOrDrop(to, c.bytes, c.written, published - c.written);
        c.written = published;
      }
    }
  }

  /** Writes, or counts the lines as dropped when the write fails (never retried: no line written twice). */
  private void writeOrDrop(OutputStream to, byte[] bytes, int from, int length) {
    try {
      to.write(bytes, from, length);
      if (failing) {
        failing = false;
        LOG.info("access log {}: writing again", name());
      }
    } catch (IOException e) {
      int lines = 0;
      for (int i = from; i < from + length; i++) {
        lines += bytes[i] == '\n' ? 1 : 0;
      }
      dropped.addAndGet(lines);
      failed(e);
    }
  }

  /** Logs a failed write once, until a write succeeds again. */
  private void failed(IOException e) {
    if (!failing) {
      failing = true;
      LOG.error("access log {}: {} (lines are dropped and counted until a write succeeds)",
          name(), e.toString());
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

  /** The file's path, or "stdout", for the log. */
  private String name() {
    return path == null ? "stdout" : path;
  }

  private OutputStream open() throws IOException {
    return path == null ? System.out : new FileOutputStream(path, true);
  }

  private void drain() {
    while (true) {
      boolean last = stopping; // read before writing: what was appended before close() is written
      for (Lane lane : lanes) {
        boolean ended = !lane.owner.isAlive(); // (read before writing: what it appended is then all there)
        lane.writeTo(out);
        if (ended) {
          lanes.remove(lane);
          waiting.addAndGet(-lane.first.bytes.length); // (its last chunk: nobody appends to it any more)
        }
      }
      try {
        out.flush(); // (a file's stream has no buffer; standard output's has)
      } catch (IOException e) {
        failed(e);
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
