package tether.accesslog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The access log's sink on real files and a real pipe: every appended line arrives whole and in its thread's order
 * across chunk boundaries (a line longer than a chunk too), close() writes what was appended, and a writer that
 * cannot write (a pipe nobody reads) makes the appending thread drop and count lines, never wait.
 */
class LogSinkTest {

  @TempDir
  Path dir;

  private static byte[] line(String text) {
    return (text + "\n").getBytes(StandardCharsets.US_ASCII);
  }

  @Test
  void linesArriveWholeAndInOrderAcrossChunksAndCloseWritesTheRest() throws Exception {
    Path file = dir.resolve("access.log");
    AtomicLong dropped = new AtomicLong();
    LogSink sink = new LogSink(file.toString(), dropped);
    LogSink.Lane lane = sink.lane();
    StringBuilder expected = new StringBuilder();
    for (int i = 0; i < 20_000; i++) {
      // lengths from 12 to ~400 bytes, so lines end at every offset of a chunk; one line is 3 chunks long
      String text = i == 7_000 ? "big " + "x".repeat(3 * LogSink.CHUNK_BYTES) : i + " " + "y".repeat(i % 389);
      byte[] bytes = line(text);
      lane.append(bytes, bytes.length);
      expected.append(text).append('\n');
    }
    assertThat(expected.length()).as("many chunks").isGreaterThan(20 * LogSink.CHUNK_BYTES);
    sink.close();
    assertThat(Files.readString(file, StandardCharsets.US_ASCII)).isEqualTo(expected.toString());
    assertThat(dropped.get()).isZero();
  }

  @Test
  void eachThreadsLinesKeepTheirOrder() throws Exception {
    Path file = dir.resolve("access.log");
    LogSink sink = new LogSink(file.toString(), new AtomicLong());
    int threads = 4;
    int lines = 30_000;
    List<CompletableFuture<Void>> appenders = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      appenders.add(CompletableFuture.runAsync(() -> {
        LogSink.Lane lane = sink.lane();
        for (int i = 0; i < lines; i++) {
          byte[] bytes = line("t" + thread + " " + i + " " + "z".repeat(i % 97));
          lane.append(bytes, bytes.length);
        }
      }, runnable -> new Thread(runnable).start()));
    }
    CompletableFuture.allOf(appenders.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    sink.close();
    int[] next = new int[threads];
    Pattern shape = Pattern.compile("t(\\d) (\\d+) z*");
    for (String l : Files.readAllLines(file, StandardCharsets.US_ASCII)) {
      Matcher m = shape.matcher(l);
      assertThat(m.matches()).as("a whole line: %s", l).isTrue();
      int thread = Integer.parseInt(m.group(1));
      assertThat(Integer.parseInt(m.group(2))).as("thread %d's next line", thread).isEqualTo(next[thread]++);
    }
    assertThat(next).containsOnly(lines);
  }

  /** A thread that logged and ended leaves nothing behind: its lines are written and its lane goes. */
  @Test
  void aLaneWhoseThreadEndedIsWrittenThenDropped() throws Exception {
    Path file = dir.resolve("access.log");
    LogSink sink = new LogSink(file.toString(), new AtomicLong());
    for (int t = 0; t < 50; t++) {
      int thread = t;
      Thread appender = new Thread(() -> {
        byte[] bytes = line("from " + thread);
        sink.lane().append(bytes, bytes.length);
      });
      appender.start();
      appender.join();
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> sink.lanes() == 0);
    sink.close();
    assertThat(Files.readAllLines(file, StandardCharsets.US_ASCII)).hasSize(50).allMatch(l -> l.startsWith("from "));
  }

  /**
   * A disk that stops taking lines (a pipe nobody reads): four event loops go on appending, never waiting, and at
   * most 16 MiB wait for it, all lanes together; the rest is dropped and counted. Once it takes lines again, every
   * line kept arrives whole and in its thread's order, and a line longer than a chunk passes.
   */
  @Test
  @Timeout(90)
  void aStalledDiskHolds16MiBForAllLanesDropsAndCountsTheRestAndNeverBlocks() throws Exception {
    Path fifo = dir.resolve("access.fifo");
    assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
    // opening a pipe blocks until both ends are open: the reader opens it meanwhile, and reads nothing yet
    CompletableFuture<InputStream> reader = CompletableFuture.supplyAsync(() -> {
      try {
        return new FileInputStream(fifo.toFile());
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, runnable -> new Thread(runnable).start());
    AtomicLong dropped = new AtomicLong();
    LogSink sink = new LogSink(fifo.toString(), dropped);
    InputStream in = reader.get(10, TimeUnit.SECONDS);
    int threads = 4;
    int perThread = 10_000; // 1 KiB each: 40 MiB in all, over twice the budget (the pipe holds 64 KiB)
    String pad = "p".repeat(1000);
    long started = System.nanoTime();
    List<CompletableFuture<Void>> appenders = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      appenders.add(CompletableFuture.runAsync(() -> {
        LogSink.Lane lane = sink.lane();
        for (int i = 0; i < perThread; i++) {
          byte[] bytes = line(String.format("%d %08d %s", thread, i, pad));
          lane.append(bytes, bytes.length);
        }
      }, runnable -> new Thread(runnable).start()));
    }
    CompletableFuture.allOf(appenders.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    assertThat(Duration.ofNanos(System.nanoTime() - started)).as("the appenders never waited for the pipe")
        .isLessThan(Duration.ofSeconds(20));
    assertThat(sink.waitingBytes()).as("held for the disk, all lanes together")
        .isLessThanOrEqualTo(LogSink.MAX_WAITING_BYTES + (long) threads * LogSink.CHUNK_BYTES);
    long droppedWhileStalled = dropped.get();
    assertThat(droppedWhileStalled).as("lines beyond the budget").isGreaterThan(threads * perThread / 3);

    CompletableFuture<byte[]> everything = CompletableFuture.supplyAsync(() -> {
      try {
        // to the end (the writer closes the pipe after its last pass); not readAllBytes, which seeks (JDK 17)
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] chunk = new byte[65_536];
        for (int n = in.read(chunk); n >= 0; n = in.read(chunk)) {
          all.write(chunk, 0, n);
        }
        return all.toByteArray();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, runnable -> new Thread(runnable).start());
    await().atMost(Duration.ofSeconds(30)).until(() -> sink.lanes() == 0 && sink.waitingBytes() == 0);
    String big = "big " + "b".repeat(3 * LogSink.CHUNK_BYTES);
    Thread late = new Thread(() -> {
      byte[] bytes = line(big);
      sink.lane().append(bytes, bytes.length);
    });
    late.start();
    late.join();
    await().atMost(Duration.ofSeconds(10)).until(() -> sink.lanes() == 0);
    sink.close();
    await().atMost(Duration.ofSeconds(30)).until(everything::isDone);
    String[] read = new String(everything.get(), StandardCharsets.US_ASCII).split("\n");
    assertThat(read[read.length - 1]).as("a line over a chunk long, once the disk took lines again").isEqualTo(big);
    int[] previous = {-1, -1, -1, -1};
    for (int i = 0; i < read.length - 1; i++) {
      String l = read[i];
      assertThat(l).as("a whole line").matches("\\d \\d{8} p{1000}");
      int thread = l.charAt(0) - '0';
      int n = Integer.parseInt(l.substring(2, 10));
      assertThat(n).as("thread %d's lines in order", thread).isGreaterThan(previous[thread]);
      previous[thread] = n;
    }
    assertThat((long) read.length - 1 + dropped.get()).as("every line written or counted as dropped")
        .isEqualTo((long) threads * perThread);
    assertThat(dropped.get()).as("nothing dropped after the stall").isEqualTo(droppedWhileStalled);
    in.close();
  }

  /** A write that fails (a full disk) is never retried: its lines are counted as dropped, once each. */
  @Test
  void linesAFullDiskRefusesAreCountedOnce() throws Exception {
    AtomicLong dropped = new AtomicLong();
    LogSink sink = new LogSink("/dev/full", dropped);
    LogSink.Lane lane = sink.lane();
    for (int i = 0; i < 1_000; i++) {
      byte[] bytes = line("line " + i);
      lane.append(bytes, bytes.length);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> dropped.get() == 1_000);
    sink.close();
    assertThat(dropped.get()).as("after more passes of the writer").isEqualTo(1_000);
  }

  /** After close (a reload replaced the sink), a line appended is counted as dropped, not lost silently. */
  @Test
  void aLineAppendedAfterCloseIsCountedAsDropped() throws Exception {
    AtomicLong dropped = new AtomicLong();
    LogSink sink = new LogSink(dir.resolve("access.log").toString(), dropped);
    LogSink.Lane lane = sink.lane();
    sink.close();
    byte[] bytes = line("late");
    lane.append(bytes, bytes.length);
    assertThat(dropped.get()).isEqualTo(1);
  }
}
