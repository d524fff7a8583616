package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import tether.testing.Backends;
import tether.testing.ProxyTestBase;
import tether.testing.TetherHarness;

/**
 * 1 GiB each way through Tether in a JVM capped at 512 MiB of heap (surefire argLine): passes only if bodies
 * stream with backpressure and are never buffered whole.
 */
class StreamingTest extends ProxyTestBase {

  private static final long SIZE = 1L << 30;
  static final int CHUNK = 64 * 1024;


  /** Deterministic bytes: the same generator feeds the sender and the expected checksum. */
  static byte[] chunk(long index) {
    byte[] b = new byte[CHUNK];
    for (int i = 0; i < CHUNK; i += 8) {
      long v = index * 31 + i;
      for (int j = 0; j < 8; j++) {
        b[i + j] = (byte) (v >>> (j * 8));
      }
    }
    return b;
  }

  static long expectedCrc() {
    CRC32 crc = new CRC32();
    for (long i = 0; i < SIZE / CHUNK; i++) {
      crc.update(chunk(i));
    }
    return crc.getValue();
  }

  @Test
  void oneGigabyteDownloadAndUploadStreamIntact() throws Exception {
    Backends.Backend b = backends.start("big", req -> {
      if (req.method().name().equals("GET")) {
        HttpServerResponse resp = req.response().putHeader("Content-Length", Long.toString(SIZE));
        writeChunks(resp, 0, SIZE / CHUNK);
      } else {
        CRC32 crc = new CRC32();
        AtomicLong bytes = new AtomicLong();
        req.handler(buf -> {
          crc.update(buf.getBytes());
          bytes.addAndGet(buf.length());
        });
        req.endHandler(v -> req.response().end(bytes.get() + " " + crc.getValue()));
      }
    });
    tether = TetherHarness.start("upstreams:\n  app:\n    servers: [{name: big, address: \"" + b.address()
        + "\"}]\nlimits: {max_body_bytes: 2GB}\ntimeouts: {response_header: 60s}\n");
    long expected = expectedCrc();

    HttpResponse<InputStream> down = tether.http().send(HttpRequest.newBuilder(URI.create(tether.url("/big")))
        .build(), HttpResponse.BodyHandlers.ofInputStream());
    CRC32 crc = new CRC32();
    long total = 0;
    try (InputStream in = down.body()) {
      byte[] buf = new byte[CHUNK];
      int n;
      while ((n = in.read(buf)) >= 0) {
        crc.update(buf, 0, n);
        total += n;
      }
    }
    assertThat(total).isEqualTo(SIZE);
    assertThat(crc.getValue()).isEqualTo(expected);

    HttpResponse<String> up = tether.send(HttpRequest.newBuilder(URI.create(tether.url("/upload")))
        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new GeneratedStream())).build());
    assertThat(up.statusCode()).isEqualTo(200);
    assertThat(up.body()).isEqualTo(SIZE + " " + expected);
  }

  /** Writes chunks {@code from} to {@code end} (exclusive) of {@link #chunk} with the client's backpressure, then ends. */
  static void writeChunks(HttpServerResponse resp, long from, long end) {
    long i = from;
    while (i < end) {
      resp.write(Buffer.buffer(chunk(i++)));
      if (resp.writeQueueFull()) {
        long next = i;
        resp.drainHandler(v -> writeChunks(resp, next, end));
        return;
      }
    }
    resp.end();
  }

  /** The same bytes as {@link #chunk}, as a stream. */
  private static final class GeneratedStream extends InputStream {
    private long index;
    private byte[] current = new byte[0];
    private int pos;

    @Override
    public int read() {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (pos == current.length) {
        if (index == SIZE / CHUNK) {
          return -1;
        }
        current = chunk(index++);
        pos = 0;
      }
      int n = Math.min(len, current.length - pos);
      System.arraycopy(current, pos, b, off, n);
      pos += n;
      return n;
    }
  }
}
