package tether.compression;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import io.vertx.core.streams.WriteStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.Base64;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.CRC32;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Backpressure through the compressing stream, without sockets (whose kernel buffers would hide it): a source that
 * produces only while not paused, piped through {@link EncodingStream} into a sink that stops taking. The source
 * must stop within a few chunks, so memory never holds more than the sink's queue and the coder's window.
 */
class EncodingStreamTest {

  private static final int CHUNK = 64 * 1024;
  private static final int CHUNKS = 200; // 12.5 MiB
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    vertx.close().await();
  }

  /** Base64 of random bytes: text that compresses only to about 3/4, so compressed bytes stay near input bytes. */
  private static Buffer chunk(int i) {
    byte[] raw = new byte[CHUNK * 3 / 4];
    new Random(i).nextBytes(raw);
    return Buffer.buffer(Base64.getEncoder().encode(raw));
  }

  @Test
  void aSinkThatStopsTakingStopsTheSource() throws IOException {
    Context context = vertx.getOrCreateContext();
    Source source = new Source(context);
    Sink sink = new Sink(256 * 1024);
    AtomicReference<Future<Void>> piped = new AtomicReference<>();
    context.runOnContext(v -> piped.set(new EncodingStream(source, new GzipEncoder(5), context).pipe().to(sink)));

    await().atMost(Duration.ofSeconds(5)).until(() -> source.paused && source.produced > 0);
    long heldBack = source.produced;
    sleep(200); // nothing more while the sink stays full
    assertThat(source.produced).isEqualTo(heldBack);
    assertThat(heldBack).as("bytes the source produced while the sink took 256 KiB")
        .isLessThan(1024 * 1024);

    // a slow client: takes what is queued once the source was held back again (waited on, not timed: on a busy
    // machine a take every 20 ms came before the sink filled, and the source was seldom held back)
    for (int takes = 0; takes < 10_000 && !piped.get().isComplete(); takes++) {
      int pauses = source.pauses;
      context.runOnContext(v -> sink.take());
      await().atMost(Duration.ofSeconds(5)).until(() -> source.pauses > pauses || piped.get().isComplete());
    }
    assertThat(piped.get().succeeded()).isTrue();
    assertThat(source.pauses).as("the source was held back again and again").isGreaterThan(10);

    CRC32 expected = new CRC32();
    for (int i = 0; i < CHUNKS; i++) {
      expected.update(chunk(i).getBytes());
    }
    CRC32 got = new CRC32();
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(sink.all.getBytes()), 64 * 1024)) {
      byte[] b = new byte[64 * 1024];
      int n;
      while ((n = in.read(b)) >= 0) {
        got.update(b, 0, n);
      }
    }
    assertThat(got.getValue()).isEqualTo(expected.getValue());
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Produces a chunk per event-loop turn while not paused, as a connection does. */
  private static final class Source implements ReadStream<Buffer> {
    private final Context context;
    private Handler<Buffer> handler;
    private Handler<Void> endHandler;
    volatile boolean paused = true;
    volatile long produced;
    volatile int pauses;
    private int next;
    private boolean scheduled;

    Source(Context context) {
      this.context = context;
    }

    @Override
    public Source exceptionHandler(Handler<Throwable> handler) {
      return this;
    }

    @Override
    public Source handler(Handler<Buffer> handler) {
      this.handler = handler;
      return this;
    }

    @Override
    public Source pause() {
      if (!paused) {
        pauses++;
      }
      paused = true;
      return this;
    }

    @Override
    public Source resume() {
      paused = false;
      schedule();
      return this;
    }

    @Override
    public Source fetch(long amount) {
      return resume();
    }

    @Override
    public Source endHandler(Handler<Void> endHandler) {
      this.endHandler = endHandler;
      return this;
    }

    private void schedule() {
      if (!scheduled) {
        scheduled = true;
        context.runOnContext(v -> {
          scheduled = false;
          produce();
        });
      }
    }

    private void produce() {
      if (paused) {
        return;
      }
      if (next == CHUNKS) {
        endHandler.handle(null);
        return;
      }
      Buffer b = chunk(next++);
      produced += b.length();
      handler.handle(b);
      schedule();
    }
  }

  /** Holds what it is given until {@link #take()}; full past {@code max} bytes. */
  private static final class Sink implements WriteStream<Buffer> {
    private final int max;
    final Buffer all = Buffer.buffer();
    private long queued;
    private Handler<Void> drainHandler;

    Sink(int max) {
      this.max = max;
    }

    void take() {
      queued = 0;
      Handler<Void> h = drainHandler;
      if (h != null) {
        h.handle(null);
      }
    }

    @Override
    public Sink exceptionHandler(Handler<Throwable> handler) {
      return this;
    }

    @Override
    public Future<Void> write(Buffer data) {
      all.appendBuffer(data);
      queued += data.length();
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> end() {
      return Future.succeededFuture();
    }

    @Override
    public Sink setWriteQueueMaxSize(int maxSize) {
      return this;
    }

    @Override
    public boolean writeQueueFull() {
      return queued >= max;
    }

    @Override
    public Sink drainHandler(Handler<Void> handler) {
      this.drainHandler = handler;
      return this;
    }
  }
}
