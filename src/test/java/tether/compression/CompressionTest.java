package tether.compression;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.luben.zstd.ZstdInputStream;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import tether.testing.Backends;
import tether.testing.ProxyTestBase;
import tether.testing.TetherHarness;

/**
 * Compression on real sockets: a backend serving the issue's 5.6 KB page and friends behind Tether, every
 * compressed answer checked by decompressing it.
 */
class CompressionTest extends ProxyTestBase {

  static final String PAGE = page();
  private static final long BIG = 20L << 20;
  private static final int CHUNK = 64 * 1024;

  /** About 5.6 KB of HTML, like a PHP app's page. */
  static String page() {
    StringBuilder b = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        + "<title>Orders</title><link rel=\"stylesheet\" href=\"/app.css\"></head>\n<body><table class=\"orders\">\n");
    for (int i = 0; b.length() < 5500; i++) {
      b.append("<tr><td class=\"id\">").append(1000 + i * 7).append("</td><td class=\"name\">Customer ")
          .append(i * 31 % 97).append("</td><td class=\"status\">").append(i % 3 == 0 ? "shipped" : "open")
          .append("</td></tr>\n");
    }
    return b.append("</table></body></html>\n").toString();
  }

  private static byte[] gzip(byte[] body) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(body);
    }
    return out.toByteArray();
  }

  private static byte[] gunzip(byte[] body) throws IOException {
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
      return in.readAllBytes();
    }
  }

  /** Base64 of seeded random bytes: text that compresses only to about 3/4. */
  private static byte[] bigChunk(long i) {
    byte[] raw = new byte[CHUNK * 3 / 4];
    new Random(i).nextBytes(raw);
    return Base64.getEncoder().encode(raw);
  }

  private final AtomicLong bigWritten = new AtomicLong();

  private void serve(HttpServerRequest req) {
    HttpServerResponse resp = req.response();
    byte[] page = PAGE.getBytes(StandardCharsets.UTF_8);
    switch (req.path()) {
      case "/page", "/plain/page" -> {
        String inm = req.getHeader("If-None-Match");
        resp.putHeader("Content-Type", "text/html; charset=UTF-8").putHeader("ETag", "\"v1\"")
            .putHeader("Accept-Ranges", "bytes");
        if (inm != null && inm.contains("\"v1\"")) {
          resp.setStatusCode(304).end();
        } else if (req.getHeader("Range") != null) {
          resp.setStatusCode(206).putHeader("Content-Range", "bytes 0-99/" + page.length)
              .end(Buffer.buffer().appendBytes(page, 0, 100));
        } else {
          resp.end(Buffer.buffer(page));
        }
      }
      case "/gz" -> {
        try {
          resp.putHeader("Content-Type", "text/html").putHeader("Content-Encoding", "gzip")
              .end(Buffer.buffer(gzip(page)));
        } catch (IOException e) {
          resp.setStatusCode(500).end();
        }
      }
      case "/png" -> resp.putHeader("Content-Type", "image/png").end(Buffer.buffer(new byte[5600]));
      case "/small" -> resp.putHeader("Content-Type", "text/html").end(PAGE.substring(0, 500));
      case "/nocache" -> resp.putHeader("Content-Type", "text/html")
          .putHeader("Cache-Control", "no-transform").end(PAGE);
      case "/parts" -> {
        resp.setChunked(true).putHeader("Content-Type", "text/html");
        resp.write("<html><head><title>first part</title></head><body>\n");
        backends.vertx().setTimer(6000, t -> resp.end("the rest</body></html>\n"));
      }
      case "/big" -> {
        resp.setChunked(true).putHeader("Content-Type", "text/plain");
        writeBig(resp, 0);
      }
      default -> resp.setStatusCode(404).end();
    }
  }

  private void writeBig(HttpServerResponse resp, long from) {
    long i = from;
    while (i < BIG / CHUNK) {
      byte[] b = bigChunk(i++);
      bigWritten.addAndGet(b.length);
      resp.write(Buffer.buffer(b));
      if (resp.writeQueueFull()) {
        long next = i;
        resp.drainHandler(v -> writeBig(resp, next));
        return;
      }
    }
    resp.end();
  }

  private void start(String compression) {
    Backends.Backend b = backends.start("web", this::serve);
    tether = TetherHarness.start(upstream("", b) + compression);
  }

  private HttpResponse<byte[]> get(String path, String... headers) {
    return send("GET", path, headers);
  }

  private HttpResponse<byte[]> send(String method, String path, String... headers) {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(tether.url(path))).timeout(Duration.ofSeconds(20))
        .method(method, HttpRequest.BodyPublishers.noBody());
    if (headers.length > 0) {
      r.headers(headers);
    }
    try {
      return tether.http().send(r.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static String header(HttpResponse<?> r, String name) {
    return r.headers().firstValue(name).orElse(null);
  }

  @Test
  void theIssuesPageComesBackGzipped() throws IOException {
    start("compression: {gzip: true}\n");
    HttpResponse<byte[]> r = get("/page", "Accept-Encoding", "gzip, deflate, br");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(header(r, "Content-Encoding")).isEqualTo("gzip");
    assertThat(header(r, "Vary")).isEqualTo("Accept-Encoding");
    assertThat(header(r, "Content-Length")).isNull();
    assertThat(header(r, "Transfer-Encoding")).isEqualTo("chunked");
    assertThat(header(r, "ETag")).isEqualTo("W/\"v1\"");
    assertThat(header(r, "Accept-Ranges")).isNull();
    assertThat(new String(gunzip(r.body()), StandardCharsets.UTF_8)).isEqualTo(PAGE);
    assertThat(PAGE.length()).isBetween(5500, 5700);
    assertThat(r.body().length).as("compressed size").isLessThan(PAGE.length() / 3);
  }

  @Test
  void zstdWhenConfiguredAndPreferred() throws IOException {
    start("compression: {zstd: true}\n");
    HttpResponse<byte[]> r = get("/page", "Accept-Encoding", "gzip, zstd");
    assertThat(header(r, "Content-Encoding")).isEqualTo("zstd");
    try (InputStream in = new ZstdInputStream(new ByteArrayInputStream(r.body()))) {
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(PAGE);
    }
    assertThat(header(get("/page", "Accept-Encoding", "gzip"), "Content-Encoding")).isEqualTo("gzip");
  }

  @Test
  void notForAClientThatDoesNotTakeGzip() {
    start("compression: {gzip: true}\n");
    for (String[] h : new String[][] {{}, {"Accept-Encoding", "br, deflate"}, {"Accept-Encoding", "gzip;q=0, br"}}) {
      HttpResponse<byte[]> r = get("/page", h);
      assertThat(header(r, "Content-Encoding")).isNull();
      assertThat(header(r, "Content-Length")).isEqualTo(Integer.toString(PAGE.length()));
      assertThat(header(r, "ETag")).isEqualTo("\"v1\"");
      assertThat(header(r, "Vary")).as("a cache must still tell the two apart").isEqualTo("Accept-Encoding");
      assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(PAGE);
    }
  }

  @Test
  void whatIsNotCompressed() throws IOException {
    start("compression: {gzip: true}\n");
    String[] gz = {"Accept-Encoding", "gzip"};

    HttpResponse<byte[]> already = get("/gz", gz);
    assertThat(header(already, "Content-Encoding")).isEqualTo("gzip");
    assertThat(new String(gunzip(already.body()), StandardCharsets.UTF_8)).as("gzipped once, not twice")
        .isEqualTo(PAGE);

    HttpResponse<byte[]> png = get("/png", gz);
    assertThat(header(png, "Content-Encoding")).isNull();
    assertThat(png.body()).hasSize(5600);

    HttpResponse<byte[]> small = get("/small", gz);
    assertThat(header(small, "Content-Encoding")).isNull();
    assertThat(header(small, "Content-Length")).isEqualTo("500");

    HttpResponse<byte[]> noTransform = get("/nocache", gz);
    assertThat(header(noTransform, "Content-Encoding")).isNull();

    HttpResponse<byte[]> range = get("/page", "Accept-Encoding", "gzip", "Range", "bytes=0-99");
    assertThat(range.statusCode()).isEqualTo(206);
    assertThat(header(range, "Content-Encoding")).isNull();
    assertThat(new String(range.body(), StandardCharsets.UTF_8)).isEqualTo(PAGE.substring(0, 100));

    HttpResponse<byte[]> head = send("HEAD", "/page", gz);
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(header(head, "Content-Encoding")).isNull();
    assertThat(header(head, "Vary")).isEqualTo("Accept-Encoding");

    HttpResponse<byte[]> notModified = get("/page", "Accept-Encoding", "gzip", "If-None-Match", "W/\"v1\"");
    assertThat(notModified.statusCode()).isEqualTo(304);
    assertThat(header(notModified, "Content-Encoding")).isNull();
    assertThat(notModified.body()).isEmpty();
  }

  @Test
  void offWithoutACompressionBlock() {
    start("");
    HttpResponse<byte[]> r = get("/page", "Accept-Encoding", "gzip");
    assertThat(header(r, "Content-Encoding")).isNull();
    assertThat(header(r, "Vary")).isNull();
  }

  @Test
  void aRouteOverridesTheTopLevel() throws IOException {
    Backends.Backend b = backends.start("web", this::serve);
    tether = TetherHarness.start(upstream("", b) + "compression: {gzip: true, level: 1}\nroutes:\n"
        + "  - {path: /plain/, upstream: app, compression: {gzip: false}}\n"
        + "  - {path: /, upstream: app, compression: {min_length: 10KB}}\n"
        + "  - {path: /never, upstream: app}\n");
    assertThat(header(get("/plain/page", "Accept-Encoding", "gzip"), "Content-Encoding")).isNull();
    assertThat(header(get("/page", "Accept-Encoding", "gzip"), "Content-Encoding")).as("5.6 KB < 10 KB")
        .isNull();
    tether.close();
    tether = TetherHarness.start(upstream("", b) + "routes:\n"
        + "  - {path: /page, upstream: app, compression: {level: 9}}\n"
        + "  - {path: /, upstream: app}\n");
    HttpResponse<byte[]> r = get("/page", "Accept-Encoding", "gzip");
    assertThat(header(r, "Content-Encoding")).as("a route's block turns it on").isEqualTo("gzip");
    assertThat(new String(gunzip(r.body()), StandardCharsets.UTF_8)).isEqualTo(PAGE);
    assertThat(header(get("/small", "Accept-Encoding", "gzip"), "Vary")).isNull();
  }

  /** A page sent in parts reaches the browser in parts: what came is flushed, not held for the end. */
  @Test
  void aPartSentIsAPartSeen() throws Exception {
    start("compression: {gzip: true}\n");
    long start = System.nanoTime();
    HttpResponse<InputStream> r = tether.http().send(HttpRequest.newBuilder(URI.create(tether.url("/parts")))
        .header("Accept-Encoding", "gzip").build(), HttpResponse.BodyHandlers.ofInputStream());
    assertThat(header(r, "Content-Encoding")).isEqualTo("gzip");
    try (InputStream in = new GZIPInputStream(r.body(), 64)) {
      String first = "<html><head><title>first part</title></head><body>\n";
      byte[] got = in.readNBytes(first.length());
      assertThat(new String(got, StandardCharsets.UTF_8)).isEqualTo(first);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).as("before the backend sent the rest (6 s)")
          .isLessThan(Duration.ofMillis(5000));
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("the rest</body></html>\n");
    }
  }

  /**
   * 20 MB of text streamed by the backend (no length) to a client that reads slowly at first: it decompresses
   * intact, and the backend was held back meanwhile (Tether does not read ahead into memory). The proof without
   * kernel buffers in the way is {@link EncodingStreamTest}.
   */
  @Test
  void aLargeStreamToASlowClientArrivesIntact() throws Exception {
    start("compression: {gzip: true, level: 1}\n");
    HttpResponse<InputStream> r = tether.http().send(HttpRequest.newBuilder(URI.create(tether.url("/big")))
        .header("Accept-Encoding", "gzip").build(), HttpResponse.BodyHandlers.ofInputStream());
    assertThat(header(r, "Content-Encoding")).isEqualTo("gzip");
    CRC32 crc = new CRC32();
    long total = 0;
    try (InputStream in = new GZIPInputStream(r.body(), CHUNK)) {
      byte[] buf = new byte[CHUNK];
      int n;
      int reads = 0;
      while ((n = in.read(buf)) >= 0) {
        crc.update(buf, 0, n);
        total += n;
        if (++reads == 4) {
          Thread.sleep(1000); // a slow client: the backend must wait for it
          assertThat(bigWritten.get()).as("written by the backend while the client read " + total + " bytes")
              .isLessThan(BIG);
        }
      }
    }
    CRC32 expected = new CRC32();
    for (long i = 0; i < BIG / CHUNK; i++) {
      expected.update(bigChunk(i));
    }
    assertThat(total).isEqualTo(BIG);
    assertThat(backends.get("web").served()).as("requests the backend saw").hasValue(1);
    assertThat(crc.getValue()).isEqualTo(expected.getValue());
  }
}
