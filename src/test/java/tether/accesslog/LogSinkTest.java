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

  @Test
  @Timeout(60)
  void aWriterThatCannotWriteDropsAndCountsLinesAndNeverBlocksTheAppender() throws Exception {
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
    LogSink.Lane lane = sink.lane();
    int total = 40_000; // 1 KiB each: 40 MiB, over twice what a lane may hold (the pipe holds 64 KiB)
    String pad = "p".repeat(1000);
    long started = System.nanoTime();
    for (int i = 0; i < total; i++) {
      byte[] bytes = line(String.format("%08d %s", i, pad));
      lane.append(bytes, bytes.length);
    }
    assertThat(Duration.ofNanos(System.nanoTime() - started)).as("the appender never waited for the pipe")
        .isLessThan(Duration.ofSeconds(20));
    assertThat(dropped.get()).as("lines beyond a lane's 16 MiB were dropped").isGreaterThan(total / 3);

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
    sink.close();
    await().atMost(Duration.ofSeconds(30)).until(everything::isDone);
    String[] read = new String(everything.get(), StandardCharsets.US_ASCII).split("\n");
    int previous = -1;
    for (String l : read) {
      assertThat(l).as("a whole line").matches("\\d{8} p{1000}");
      int n = Integer.parseInt(l.substring(0, 8));
      assertThat(n).as("in order").isGreaterThan(previous);
      previous = n;
    }
    assertThat((long) read.length + dropped.get()).as("every line written or counted as dropped").isEqualTo(total);
    in.close();
  }
}
