package tether.e2e;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A browser-like user speaking HTTP/1.1 on raw sockets, so its connections are exactly what a test says: one kept
 * alive throughout (a new one only after the server closed it, counted), or a new one per request. Keeps the
 * cookies it is given and sends them back. Not thread-safe: one user, one thread.
 */
final class RawUser implements AutoCloseable {

  private final int port;
  private final String host;
  private final boolean keepAlive;
  private final Map<String, String> jar = new LinkedHashMap<>();
  private Socket socket;
  private InputStream in;
  private int connections;
  private long lastEndNanos = System.nanoTime();

  /** @param keepAlive one connection for every request, else {@code Connection: close} and a new one each time */
  RawUser(int port, String host, boolean keepAlive) {
    this.port = port;
    this.host = host;
    this.keepAlive = keepAlive;
  }

  /** Sends one request ({@code body} null for none; {@code headers} as "Name: value") and reads its response. */
  Response send(String method, String target, String contentType, byte[] body, String... headers)
      throws IOException {
    try {
      if (socket == null) {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(15_000);
        in = new BufferedInputStream(socket.getInputStream());
        connections++;
      }
      StringBuilder head = new StringBuilder().append(method).append(' ').append(target).append(" HTTP/1.1\r\n")
          .append("Host: ").append(host).append("\r\n");
      if (!jar.isEmpty()) {
        head.append("Cookie: ").append(jar.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
            .collect(Collectors.joining("; "))).append("\r\n");
      }
      if (body != null) {
        head.append("Content-Type: ").append(contentType).append("\r\nContent-Length: ").append(body.length)
            .append("\r\n");
      }
      for (String h : headers) {
        head.append(h).append("\r\n");
      }
      if (!keepAlive) {
        head.append("Connection: close\r\n");
      }
      OutputStream out = socket.getOutputStream();
      out.write(head.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
      if (body != null) {
        out.write(body);
      }
      out.flush();
      Response r = Response.read(in);
      for (String c : r.headers().getOrDefault("set-cookie", List.of())) {
        String pair = c.split(";", 2)[0];
        int eq = pair.indexOf('=');
        jar.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
      }
      if (!keepAlive || "close".equalsIgnoreCase(r.header("connection"))) {
        closeSocket();
      }
      return r;
    } catch (IOException e) {
      closeSocket(); // the next request starts on a new connection (counted)
      throw e;
    } finally {
      lastEndNanos = System.nanoTime();
    }
  }

  /** Client connections opened so far. */
  int connections() {
    return connections;
  }

  /** When the last request ended (its response read, or its failure): where a think time starts. */
  long lastEndNanos() {
    return lastEndNanos;
  }

  @Override
  public void close() {
    closeSocket();
  }

  private void closeSocket() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException e) {
        // closing: nothing to do
      }
      socket = null;
    }
  }

  /** An HTTP/1.1 response: header names in lower case; the body framed by Content-Length, chunked, or the close. */
  record Response(int status, Map<String, List<String>> headers, String body) {

    /** The first value of a header, or "" when absent. */
    String header(String name) {
      List<String> values = headers.get(name);
      return values == null ? "" : values.get(0);
    }

    static Response read(InputStream in) throws IOException {
      String statusLine = line(in);
      if (statusLine == null) {
        throw new EOFException("connection closed before a response");
      }
      int status = Integer.parseInt(statusLine.split(" ")[1]);
      Map<String, List<String>> headers = new LinkedHashMap<>();
      for (int i = 0; i < 200; i++) {
        String line = line(in);
        if (line == null || line.isEmpty()) {
          break;
        }
        int colon = line.indexOf(':');
        headers.computeIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
            .add(line.substring(colon + 1).trim());
      }
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      List<String> length = headers.get("content-length");
      if (length != null) {
        body.write(readExactly(in, Integer.parseInt(length.get(0))));
      } else if (headers.getOrDefault("transfer-encoding", List.of()).toString().contains("chunked")) {
        for (int i = 0; i < 100_000; i++) {
          String size = line(in);
          if (size == null) {
            throw new EOFException("connection closed inside a chunked body");
          }
          int n = Integer.parseInt(size.split(";", 2)[0].trim(), 16);
          if (n == 0) {
            for (int t = 0; t < 100 && !"".equals(line(in)); t++) {
              // trailers: skipped up to the empty line
            }
            break;
          }
          body.write(readExactly(in, n));
          line(in);
        }
      } else if (status != 204 && status != 304) {
        body.write(in.readAllBytes());
      }
      return new Response(status, headers, body.toString(StandardCharsets.UTF_8));
    }

    private static byte[] readExactly(InputStream in, int n) throws IOException {
      byte[] bytes = in.readNBytes(n);
      if (bytes.length < n) {
        throw new EOFException("connection closed after " + bytes.length + " of " + n + " body bytes");
      }
      return bytes;
    }

    /** A line without its CRLF, or null at the end of the stream. */
    private static String line(InputStream in) throws IOException {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      for (int c = in.read(); c != '\n'; c = in.read()) {
        if (c < 0) {
          return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
        }
        if (b.size() > 65_536) {
          throw new IOException("a line longer than 64 KB");
        }
        if (c != '\r') {
          b.write(c);
        }
      }
      return b.toString(StandardCharsets.ISO_8859_1);
    }
  }
}
