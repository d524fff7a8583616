package tether.compression;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.luben.zstd.ZstdInputStream;
import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/** The coders alone: chunk by chunk, flushed mid-way, read back by the JDK's gzip and zstd-jni's decoders. */
class EncoderTest {

  private static byte[] text(int size) {
    StringBuilder b = new StringBuilder();
    Random r = new Random(7);
    while (b.length() < size) {
      b.append("<li class=\"item-").append(r.nextInt(1000)).append("\">Row ").append(r.nextInt()).append("</li>\n");
    }
    return b.substring(0, size).getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] encode(Encoder e, byte[] body, int chunk, boolean flushEach) {
    Buffer out = Buffer.buffer();
    for (int i = 0; i < body.length; i += chunk) {
      out.appendBuffer(e.encode(Buffer.buffer().appendBytes(body, i, Math.min(chunk, body.length - i))));
      if (flushEach) {
        out.appendBuffer(e.flush());
      }
    }
    return out.appendBuffer(e.finish()).getBytes();
  }

  private static byte[] read(InputStream in) throws IOException {
    try (in) {
      return in.readAllBytes();
    }
  }

  @Test
  void gzipRoundTripsChunkByChunkAndFlushed() throws IOException {
    byte[] body = text(300_000);
    for (boolean flush : new boolean[] {false, true}) {
      byte[] gz = encode(new GzipEncoder(5), body, 8192, flush);
      assertThat(read(new GZIPInputStream(new ByteArrayInputStream(gz)))).isEqualTo(body);
      assertThat(gz.length).isLessThan(body.length / 3);
    }
  }

  @Test
  void gzipOfNothingIsAValidEmptyStream() throws IOException {
    byte[] gz = encode(new GzipEncoder(1), new byte[0], 1, false);
    assertThat(read(new GZIPInputStream(new ByteArrayInputStream(gz)))).isEmpty();
  }

  /** What a browser has after a flush is decodable up to there: a page sent in parts shows in parts. */
  @Test
  void aFlushMakesEverythingSoFarReadable() throws IOException {
    GzipEncoder e = new GzipEncoder(5);
    byte[] head = "<html><head><title>t</title></head><body>".getBytes(StandardCharsets.UTF_8);
    Buffer out = e.encode(Buffer.buffer(head)).appendBuffer(e.flush());
    GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(out.getBytes()));
    byte[] got = new byte[head.length];
    int n = 0;
    while (n < head.length) {
      n += in.read(got, n, head.length - n);
    }
    assertThat(got).isEqualTo(head);
    e.close();
  }

  @Test
  void zstdRoundTripsChunkByChunkAndFlushed() throws IOException {
    byte[] body = text(300_000);
    for (boolean flush : new boolean[] {false, true}) {
      byte[] z = encode(new ZstdEncoder(3), body, 8192, flush);
      assertThat(read(new ZstdInputStream(new ByteArrayInputStream(z)))).isEqualTo(body);
      assertThat(z.length).isLessThan(body.length / 3);
    }
    assertThat(ZstdEncoder.available()).isTrue();
  }

  @Test
  void closingTwiceOrAfterFinishIsHarmless() {
    GzipEncoder g = new GzipEncoder(5);
    g.encode(Buffer.buffer("x"));
    g.finish();
    g.close();
    ZstdEncoder z = new ZstdEncoder(3);
    z.encode(Buffer.buffer("x"));
    z.close();
    z.close();
  }
}
