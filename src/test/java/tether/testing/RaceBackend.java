package tether.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A raw keep-alive backend that loses the keep-alive race on purpose: on a connection that already served a
 * request, a new request that arrives after {@code idleCloseMillis} of silence (0: always) is met by a close
 * without an answer, as a server closing an idle connection at the very moment it is reused. Otherwise it answers
 * {@code 200} with {@code X-Served-By} and the request body length, keeping the connection open.
 */
public final class RaceBackend implements AutoCloseable {

  private final String name;
  private final long idleCloseMillis;
  private final ServerSocket server;
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger answered = new AtomicInteger();
  private final AtomicInteger dropped = new AtomicInteger();

  public RaceBackend(String name, long idleCloseMillis) throws IOException {
    this.name = name;
    this.idleCloseMillis = idleCloseMillis;
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t = new Thread(this::acceptLoop, "race-backend-" + name);
    t.setDaemon(true);
    t.start();
  }

  public String address() {
    return "127.0.0.1:" + server.getLocalPort();
  }

  public String name() {
    return name;
  }

  /** TCP connections accepted. */
  public int connections() {
    return connections.get();
  }

  public int answered() {
    return answered.get();
  }

  /** Requests met by a close without an answer. */
  public int dropped() {
    return dropped.get();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket s = server.accept();
        connections.incrementAndGet();
        Thread t = new Thread(() -> serve(s), "race-backend-conn");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serve(Socket s) {
    try (s) {
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      long lastAnswer = 0;
      for (int served = 0; served < 10_000; served++) {
        String head = readHead(in);
        if (head == null) {
          return;
        }
        if (served > 0 && System.currentTimeMillis() - lastAnswer >= idleCloseMillis) {
          dropped.incrementAndGet();
          return; // the race: closed as the request arrives
        }
        long length = contentLength(head);
        in.readNBytes((int) length);
        String body = Long.toString(length);
        out.write(("HTTP/1.1 200 OK\r\nX-Served-By: " + name + "\r\nContent-Length: " + body.length() + "\r\n\r\n"
            + body).getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        answered.incrementAndGet();
        lastAnswer = System.currentTimeMillis();
      }
    } catch (IOException e) {
      // the peer went away
    }
  }

  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    for (int i = 0; i < 65_536; i++) {
      int b = in.read();
      if (b < 0) {
        return null;
      }
      head.write(b);
      matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
      if (matched == 4) {
        return head.toString(StandardCharsets.ISO_8859_1);
      }
    }
    return null;
  }

  private static long contentLength(String head) {
    for (String line : head.split("\r\n")) {
      if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
        return Long.parseLong(line.substring(15).trim());
      }
    }
    return 0;
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
