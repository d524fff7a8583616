package tether.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** A raw socket client: sends exact bytes and reads what comes back until close or a quiet period. */
public final class RawHttp implements AutoCloseable {

  private final Socket socket;

  public RawHttp(int port) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(10_000);
  }

  /**
   * @param receiveBufferBytes the socket's receive buffer, set before connecting (a client with a small window that
   *     the kernel does not grow: what it does not read stays on the sender's side)
   */
  public RawHttp(int port, int receiveBufferBytes) throws IOException {
    socket = new Socket();
    socket.setReceiveBufferSize(receiveBufferBytes);
    socket.setSoTimeout(10_000);
    socket.connect(new java.net.InetSocketAddress("127.0.0.1", port));
  }

  public RawHttp send(String text) throws IOException {
    socket.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
    socket.getOutputStream().flush();
    return this;
  }

  /** Reads until the peer closes (true) or {@code quietMillis} pass with no byte (false in {@link Read}). */
  public Read readUntilCloseOrQuiet(int quietMillis) throws IOException {
    socket.setSoTimeout(quietMillis);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    InputStream in = socket.getInputStream();
    byte[] buf = new byte[8192];
    boolean closed = false;
    try {
      int n;
      while ((n = in.read(buf)) >= 0) {
        out.write(buf, 0, n);
      }
      closed = true;
    } catch (SocketTimeoutException e) {
      closed = false;
    } catch (IOException e) {
      closed = true;
    }
    return new Read(out.toString(StandardCharsets.ISO_8859_1), closed);
  }

  /** Reads until what came back ends with {@code suffix} (or the peer closes, or {@code timeoutMillis} pass). */
  public String readUntil(String suffix, int timeoutMillis) throws IOException {
    socket.setSoTimeout(timeoutMillis);
    StringBuilder out = new StringBuilder();
    InputStream in = socket.getInputStream();
    try {
      int b;
      while (!out.toString().endsWith(suffix) && (b = in.read()) >= 0) {
        out.append((char) b);
      }
    } catch (SocketTimeoutException e) {
      // what came so far
    }
    return out.toString();
  }

  /**
   * Reads one response: its head, then the {@code Content-Length} bytes of its body (none for the answer to a HEAD,
   * or without a Content-Length). Returns what came within {@code timeoutMillis} per read, possibly less on a close.
   */
  public String readResponse(int timeoutMillis, boolean toHead) throws IOException {
    String head = readUntil("\r\n\r\n", timeoutMillis);
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?im)^content-length:\\s*(\\d+)").matcher(head);
    int length = toHead || !m.find() ? 0 : Integer.parseInt(m.group(1));
    socket.setSoTimeout(timeoutMillis);
    byte[] body = socket.getInputStream().readNBytes(length);
    return head + new String(body, StandardCharsets.ISO_8859_1);
  }

  /** What came back, and whether the peer closed the connection. */
  public record Read(String text, boolean closed) {}

  /** Closes with a reset (RST, not FIN): the client vanishes with whatever it sent still being read. */
  public void reset() throws IOException {
    socket.setSoLinger(true, 0);
    socket.close();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
