package tether.compression;

import io.vertx.core.buffer.Buffer;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * gzip (RFC 1952) with the JDK's {@link Deflater} in raw mode: the 10-byte header, deflate blocks, then the CRC-32
 * and length trailer, as nginx's {@code gzip} filter writes them. Holds zlib's window and state (~256 KiB at memory
 * level 8), not the body.
 */
final class GzipEncoder implements Encoder {

  /** Magic, deflate, no flags, no time, no extra flags, OS 3 (Unix): nginx's header. */
  private static final byte[] HEADER = {0x1f, (byte) 0x8b, Deflater.DEFLATED, 0, 0, 0, 0, 0, 0, 3};
  /** Output is copied out of it before any call returns, so one per event-loop thread is enough. */
  private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[16 * 1024]);

  private final Deflater deflater;
  private final CRC32 crc = new CRC32();
  private boolean headerSent;
  private boolean closed;

  GzipEncoder(int level) {
    deflater = new Deflater(level, true);
  }

  @Override
  public Buffer encode(Buffer chunk) {
    byte[] input = chunk.getBytes();
    crc.update(input);
    deflater.setInput(input);
    Buffer out = start();
    byte[] scratch = SCRATCH.get();
    while (!deflater.needsInput()) {
      int n = deflater.deflate(scratch, 0, scratch.length, Deflater.NO_FLUSH);
      out.appendBytes(scratch, 0, n);
    }
    return out;
  }

  @Override
  public Buffer flush() {
    Buffer out = start();
    byte[] scratch = SCRATCH.get();
    int n;
    do { // a full scratch means more may be waiting (Deflater#deflate's contract for SYNC_FLUSH)
      n = deflater.deflate(scratch, 0, scratch.length, Deflater.SYNC_FLUSH);
      out.appendBytes(scratch, 0, n);
    } while (n == scratch.length);
    return out;
  }

  @Override
  public Buffer finish() {
    Buffer out = start();
    byte[] scratch = SCRATCH.get();
    deflater.finish();
    while (!deflater.finished()) {
      int n = deflater.deflate(scratch, 0, scratch.length);
      out.appendBytes(scratch, 0, n);
    }
    out.appendIntLE((int) crc.getValue()).appendIntLE((int) deflater.getBytesRead());
    close();
    return out;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      deflater.end();
    }
  }

  private Buffer start() {
    Buffer out = Buffer.buffer();
    if (!headerSent) {
      headerSent = true;
      out.appendBytes(HEADER);
    }
    return out;
  }
}
