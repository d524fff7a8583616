package tether.compression;

import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;
import com.github.luben.zstd.util.Native;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * zstd (RFC 8878) with zstd-jni's streaming compressor, the coding Caddy's {@code encode} prefers. The window is
 * 128 KiB (window log 17), so a response holds about as much memory as gzip's and any decoder (browsers accept up
 * to 8 MiB) can read it.
 */
final class ZstdEncoder implements Encoder {

  private static final Logger LOG = LoggerFactory.getLogger(ZstdEncoder.class);
  private static final int WINDOW_LOG = 17;
  private static final boolean AVAILABLE = load();

  /** Where the compressor writes: the bytes of one call, handed back and replaced by a fresh buffer. */
  private final Sink sink = new Sink();
  private final ZstdOutputStreamNoFinalizer zstd;
  private boolean closed;

  ZstdEncoder(int level) {
    try {
      zstd = new ZstdOutputStreamNoFinalizer(sink).setLevel(level).setWindowLog(WINDOW_LOG);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** False where zstd-jni has no native library for the platform: zstd is then never chosen. */
  static boolean available() {
    return AVAILABLE;
  }

  @Override
  public Buffer encode(Buffer chunk) {
    byte[] input = chunk.getBytes();
    try {
      zstd.write(input, 0, input.length);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return sink.take();
  }

  @Override
  public Buffer flush() {
    try {
      zstd.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return sink.take();
  }

  @Override
  public Buffer finish() {
    close();
    return sink.take();
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      try {
        zstd.close(); // ends the frame into the sink and frees the native context
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private static boolean load() {
    try {
      Native.load();
      return true;
    } catch (UnsatisfiedLinkError | RuntimeException e) {
      LOG.warn("zstd compression unavailable on this platform (responses fall back to gzip): {}", e.toString());
      return false;
    }
  }

  private static final class Sink extends OutputStream {
    private Buffer out = Buffer.buffer();

    @Override
    public void write(int b) {
      out.appendByte((byte) b);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      out.appendBytes(b, off, len);
    }

    Buffer take() {
      Buffer taken = out;
      out = Buffer.buffer();
      return taken;
    }
  }
}
