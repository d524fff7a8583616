package tether.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import tether.Tether;
import tether.config.ConfigLoader;
import tether.config.TetherConfig;

/** Tether started in-process on an ephemeral loopback port, from a YAML text, plus a plain HTTP client. */
public final class TetherHarness implements AutoCloseable {

  private final Tether tether;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private TetherHarness(Tether tether) {
    this.tether = tether;
  }

  /** Event loops of a Tether started without a count: 1, or what a suite re-run on more loops sets. */
  public static volatile int defaultWorkers = 1;

  /** {@code transport} of a Tether whose YAML names none: null ({@code auto}), or what a suite re-run sets. */
  public static volatile String defaultTransport;

  /** {@code yaml} holds upstreams (and anything else); listen and admin are added unless given. */
  public static TetherHarness start(String yaml) {
    return start(yaml, defaultWorkers);
  }

  public static TetherHarness start(String yaml, int workers) {
    return start(yaml, workers, java.util.List.of());
  }

  public static TetherHarness start(String yaml, int workers, java.util.List<tether.proxy.ProxyListener> listeners) {
    String full = yaml;
    if (!yaml.contains("listen:")) {
      full = "listen: [{address: 127.0.0.1, port: 0}]\n" + full;
    }
    if (!yaml.contains("admin:")) {
      full = "admin: {enabled: false}\n" + full;
    }
    if (!yaml.contains("workers:")) {
      full = "workers: " + workers + "\n" + full;
    }
    if (!yaml.contains("access_log:")) {
      full = "access_log: {enabled: false}\n" + full;
    }
    if (defaultTransport != null && !yaml.contains("transport:")) {
      full = "transport: " + defaultTransport + "\n" + full;
    }
    try {
      TetherConfig config = new ConfigLoader(name -> null).parse("test.yaml", full);
      return new TetherHarness(Tether.start(config, listeners).await());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Tether run from a real file, read again on every reload, with the admin listener on an ephemeral port. */
  public static TetherHarness startFromFile(Path file) {
    ConfigLoader loader = new ConfigLoader(name -> null);
    try {
      return new TetherHarness(Tether.start(() -> loader.load(file), loader.load(file), List.of()).await());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public String adminUrl(String path) {
    return "http://127.0.0.1:" + tether.adminPort() + path;
  }

  public HttpResponse<String> admin(String method, String path, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(adminUrl(path))).timeout(Duration.ofSeconds(20))
        .method(method, HttpRequest.BodyPublishers.noBody());
    if (headers.length > 0) {
      b.headers(headers);
    }
    return send(b.build());
  }

  public Tether tether() {
    return tether;
  }

  public int port() {
    return tether.ports().get(0);
  }

  public String url(String path) {
    return "http://127.0.0.1:" + port() + path;
  }

  public HttpResponse<String> get(String path, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(20));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return send(b.GET().build());
  }

  public HttpResponse<String> send(HttpRequest request) {
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public HttpClient http() {
    return http;
  }

  @Override
  public void close() {
    tether.stop().await();
  }
}
