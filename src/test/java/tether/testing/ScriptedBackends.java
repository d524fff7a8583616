package tether.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Raw HTTP/1.1 backends on loopback ports, for tests that need a server to misbehave byte for byte: each request read
 * on a connection (its head, then {@code Content-Length} bytes of body) is added to {@code seen} and answered with
 * {@code reply} of its text; a null reply leaves the connection silent and open, {@code "CLOSE"} closes it unanswered,
 * a reply ending in {@code "#CLOSE"} is written and the connection closed. A thread per connection (tests only);
 * {@link #close} stops accepting. {@link #accepted} and {@link #closedByPeer} count connections over all its backends.
 */
public final class ScriptedBackends implements AutoCloseable {

  private static final Pattern CONTENT_LENGTH = Pattern.compile("(?i)content-length: (\\d+)");

  private final List<ServerSocket> servers = new CopyOnWriteArrayList<>();
  private final AtomicInteger accepted = new AtomicInteger();
  private final AtomicInteger closedByPeer = new AtomicInteger();

  /** Connections accepted so far, by all of this instance's backends. */
  public int accepted() {
    return accepted.get();
  }

  /** Connections the peer (the proxy) closed or reset, seen as end of stream or an error on read. */
  public int closedByPeer() {
    return closedByPeer.get();
  }

  /** @return the port of a new backend answering as {@code reply} says */
  public int start(Function<String, String> reply, Queue<String> seen) throws IOException {
    ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    servers.add(server);
    Thread t = new Thread(() -> {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          accepted.incrementAndGet();
          Thread c = new Thread(() -> {
            if (!serve(s, reply, seen)) {
              closedByPeer.incrementAndGet();
            }
          });
          c.setDaemon(true);
          c.start();
        } catch (IOException e) {
          return;
        }
      }
    });
    t.setDaemon(true);
    t.start();
    return server.getLocalPort();
  }

  @Override
  public void close() throws IOException {
    for (ServerSocket s : servers) {
      s.close();
    }
  }

  /** @return true when this side ended the connection ("CLOSE"), false when the peer closed or reset it */
  private static boolean serve(Socket s, Function<String, String> reply, Queue<String> seen) {
    try (s) {
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      StringBuilder buf = new StringBuilder();
      byte[] b = new byte[4096];
      while (true) {
        int end;
        while ((end = buf.indexOf("\r\n\r\n")) < 0) {
          if (!readInto(in, b, buf)) {
            return false;
          }
        }
        String head = buf.substring(0, end + 4);
        buf.delete(0, end + 4);
        Matcher m = CONTENT_LENGTH.matcher(head);
        int length = m.find() ? Integer.parseInt(m.group(1)) : 0;
        while (buf.length() < length) {
          if (!readInto(in, b, buf)) {
            return false;
          }
        }
        String request = head + buf.substring(0, length);
        buf.delete(0, length);
        seen.add(request);
        String r = reply.apply(request);
        if (r == null) {
          continue; // silent: the next read waits (the proxy's next request, or its close)
        }
        if (r.equals("CLOSE")) {
          return true;
        }
        boolean close = r.endsWith("#CLOSE");
        out.write((close ? r.substring(0, r.length() - 6) : r).getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        if (close) {
          return true;
        }
      }
    } catch (IOException e) {
      return false; // the proxy left
    }
  }

  private static boolean readInto(InputStream in, byte[] b, StringBuilder buf) throws IOException {
    int n = in.read(b);
    if (n < 0) {
      return false;
    }
    buf.append(new String(b, 0, n, StandardCharsets.ISO_8859_1));
    return true;
  }
}
