package tether.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A raw-socket backend that records every byte it receives. It answers each connection's first request with
 * {@code 200 ok} and {@code Connection: close} once it has read that request's headers and body (Content-Length or
 * chunked), so whatever else arrived on the connection is recorded too.
 */
public final class RecordingBackend implements AutoCloseable {

  private final ServerSocket server;
  private final ByteArrayOutputStream received = new ByteArrayOutputStream();

  public RecordingBackend() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t = new Thread(this::acceptLoop, "recording-backend");
    t.setDaemon(true);
    t.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  public String received() {
    synchronized (received) {
      return received.toString(StandardCharsets.ISO_8859_1);
    }
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try (Socket s = server.accept()) {
        s.setSoTimeout(2000);
        serve(s);
      } catch (IOException e) {
        // next connection
      }
    }
  }

  private void serve(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    StringBuilder seen = new StringBuilder();
    byte[] buf = new byte[8192];
    int n;
    while (!complete(seen.toString()) && (n = in.read(buf)) >= 0) {
      String chunk = new String(buf, 0, n, StandardCharsets.ISO_8859_1);
      seen.append(chunk);
      synchronized (received) {
        received.write(buf, 0, n);
      }
    }
    s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
        .getBytes(StandardCharsets.ISO_8859_1));
    s.getOutputStream().flush();
  }

  private static boolean complete(String text) {
    int end = text.indexOf("\r\n\r\n");
    if (end < 0) {
      return false;
    }
    String head = text.substring(0, end).toLowerCase();
    String body = text.substring(end + 4);
    int cl = head.indexOf("content-length:");
    if (cl >= 0) {
      int eol = head.indexOf("\r\n", cl);
      int length = Integer.parseInt(head.substring(cl + 15, eol < 0 ? head.length() : eol).trim());
      return body.length() >= length;
    }
    if (head.contains("transfer-encoding:")) {
      return body.contains("0\r\n\r\n");
    }
    return true;
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
