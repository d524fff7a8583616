package tether.resolve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tether.testing.PrometheusText;
import tether.testing.TetherHarness;

/**
 * Servers named by host name, the docker-compose topology. Tether runs in a child JVM inside a private mount
 * namespace ({@code unshare -m}) whose {@code /etc/hosts} is a bind-mounted file of the test's, rewritten in place
 * (the bind mount follows the inode): the machine's own {@code /etc/hosts} is never touched. Two backends listen on
 * 127.0.0.1 and 127.0.0.2, same port, each answering its own name; {@code web1} points at one, then the other.
 */
class HostNameResolveTest {

  @TempDir
  Path dir;

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private Vertx vertx;
  private Path hosts;
  private int port;
  private HttpServer a;
  private NamespacedTether tether;

  @BeforeEach
  void backends() throws IOException {
    vertx = Vertx.vertx();
    hosts = dir.resolve("hosts");
    writeHosts("127.0.0.1");
    // the same port on both addresses, as containers recreated by docker compose keep theirs
    for (int i = 0; i < 10 && a == null; i++) {
      HttpServer first = listen("127.0.0.1", 0, "A");
      try {
        listen("127.0.0.2", first.actualPort(), "B");
        a = first;
      } catch (Exception taken) {
        first.close().await();
      }
    }
    assertThat(a).as("a port free on both 127.0.0.1 and 127.0.0.2").isNotNull();
    port = a.actualPort();
  }

  @AfterEach
  void stop() {
    if (tether != null) {
      tether.close();
    }
    vertx.close().await();
  }

  @Test
  void followsTheNameWhenItsAddressChanges() throws Exception {
    tether = NamespacedTether.start(dir, hosts, config("1s"));
    awaitServedBy("A", Duration.ofSeconds(10));
    JsonObject web1 = status();
    assertThat(web1.getString("address")).isEqualTo("web1:" + port);
    assertThat(web1.getString("resolved")).isEqualTo("127.0.0.1:" + port);
    assertThat(web1.getInteger("connections")).as("pooled connections counted for the host-name server").isPositive();
    assertThat(connectionsGauge()).isPositive();

    writeHosts("127.0.0.2");
    awaitServedBy("B", Duration.ofSeconds(20)); // resolve: 1s (the bound leaves room for a busy machine)
    for (int i = 0; i < 5; i++) {
      assertThat(get().body()).isEqualTo("B");
    }
    web1 = status();
    assertThat(web1.getString("resolved")).isEqualTo("127.0.0.2:" + port);
    assertThat(web1.getValue("resolve_error")).isNull();
    assertThat(web1.getInteger("connections")).isPositive();
    assertThat(connectionsGauge()).isPositive();
    assertThat(tether.log()).containsOnlyOnce("web1:" + port + " resolves to 127.0.0.2:" + port
        + " (was 127.0.0.1:" + port + ")");
  }

  @Test
  void looksTheNameUpAgainAtOnceAfterAConnectFailure() throws Exception {
    tether = NamespacedTether.start(dir, hosts, config("10m"));
    awaitServedBy("A", Duration.ofSeconds(10));

    writeHosts("127.0.0.2");
    a.close().await();
    // with a 10-minute interval, only the lookup that follows the connect failure can find B this soon (it takes
    // well under a second; the bound leaves room for a busy machine)
    awaitServedBy("B", Duration.ofSeconds(20));
    assertThat(status().getString("resolved")).isEqualTo("127.0.0.2:" + port);
    assertThat(tether.log()).containsOnlyOnce("resolves to 127.0.0.2:" + port);
  }

  /** No namespace needed: {@code localhost} is a name (in every hosts file), next to an IP literal. */
  @Test
  void connectionsCountForTheServerNotForThePeerAddress() {
    try (TetherHarness t = TetherHarness.start("admin: {address: 127.0.0.1, port: 0}\nupstreams:\n  app:\n"
             + "    servers:\n"
             + "      - {name: byname, address: \"localhost:" + port + "\"}\n"
             + "      - {name: byip, address: \"127.0.0.1:" + port + "\"}\n")) {
      for (int i = 0; i < 4; i++) {
        assertThat(t.get("/").body()).isEqualTo("A");
      }
      JsonArray servers = new JsonObject(t.admin("GET", "/status").body()).getJsonArray("upstreams")
          .getJsonObject(0).getJsonArray("servers");
      JsonObject byName = servers.getJsonObject(0);
      JsonObject byIp = servers.getJsonObject(1);
      assertThat(byName.getString("address")).isEqualTo("localhost:" + port);
      assertThat(byName.getString("resolved")).isEqualTo("127.0.0.1:" + port);
      assertThat(byIp.getString("resolved")).isEqualTo(byIp.getString("address"));
      // one peer address, two servers: each counts its own connection
      assertThat(byName.getInteger("connections")).isEqualTo(1);
      assertThat(byIp.getInteger("connections")).isEqualTo(1);
    }
  }

  private String config(String resolve) {
    return """
        listen: [{address: 127.0.0.1, port: 0}]
        admin: {address: 127.0.0.1, port: 0}
        workers: 1
        access_log: {enabled: false}
        shutdown_timeout: 1s
        resolve: %s
        upstreams:
          app:
            servers: [{name: web1, address: "web1:%d"}]
        """.formatted(resolve, port);
  }

  private HttpServer listen(String host, int port, String name) {
    return vertx.createHttpServer().requestHandler(req -> req.response().end(name)).listen(port, host).await();
  }

  /** In place (truncate and write): a rename would leave the bind mount on the old inode. */
  private void writeHosts(String web1) throws IOException {
    String text = "127.0.0.1 localhost\n" + web1 + " web1\n";
    if (Files.exists(hosts)) {
      Files.writeString(hosts, text, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
    } else {
      Files.writeString(hosts, text);
    }
  }

  /** Fails with the child Tether's log, which tells what it looked up and what it blamed. */
  private void awaitServedBy(String name, Duration atMost) {
    try {
      await("requests reach " + name).atMost(atMost).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
          .until(() -> get().body().equals(name));
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(e.getMessage() + "\nthe child Tether's log:\n" + tether.log(), e);
    }
  }

  private HttpResponse<String> get() throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + tether.port + "/"))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private String admin(String path) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + tether.adminPort + path))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  private JsonObject status() {
    try {
      return new JsonObject(admin("/status")).getJsonArray("upstreams").getJsonObject(0).getJsonArray("servers")
          .getJsonObject(0);
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  private double connectionsGauge() {
    try {
      Map<String, Double> metrics = PrometheusText.parse(admin("/metrics"));
      return metrics.entrySet().stream()
          .filter(e -> e.getKey().startsWith("tether_upstream_connections{") && e.getKey().contains("server=\"web1\""))
          .mapToDouble(Map.Entry::getValue).findFirst().orElseThrow();
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@code java tether.Main run} in a private mount namespace whose /etc/hosts is {@code hosts}. */
  static final class NamespacedTether {

    private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+) ");
    private static final Pattern ADMIN = Pattern.compile("admin on http://127\\.0\\.0\\.1:(\\d+)/");

    private final Process process;
    private final Path log;
    int port;
    int adminPort;

    private NamespacedTether(Process process, Path log) {
      this.process = process;
      this.log = log;
    }

    static NamespacedTether start(Path dir, Path hosts, String yaml) throws IOException {
      List<String> unshare = unshare(dir);
      Path config = dir.resolve("tether.yaml");
      Files.writeString(config, yaml);
      Path log = dir.resolve("tether.log");
      List<String> command = new ArrayList<>(unshare);
      command.addAll(List.of("sh", "-c", "mount --bind \"$0\" /etc/hosts && exec \"$1\" -Xmx128m"
              + " -XX:TieredStopAtLevel=1 -cp \"$2\" tether.Main run --config \"$3\"",
          hosts.toString(), Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          System.getProperty("java.class.path"), config.toString()));
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
      pb.environment().remove("TETHER_ADMIN_TOKEN");
      pb.environment().remove("TETHER_STICKY_SECRET");
      NamespacedTether t = new NamespacedTether(pb.start(), log);
      try {
        await("the child Tether listening").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
            .until(() -> {
              if (!t.process.isAlive()) {
                throw new IllegalStateException("child Tether exited " + t.process.exitValue() + ":\n" + t.log());
              }
              Matcher p = LISTENING.matcher(t.log());
              Matcher a = ADMIN.matcher(t.log());
              if (p.find() && a.find()) {
                t.port = Integer.parseInt(p.group(1));
                t.adminPort = Integer.parseInt(a.group(1));
                return true;
              }
              return false;
            });
      } catch (RuntimeException e) {
        t.close();
        throw e;
      }
      return t;
    }

    /**
     * The command prefix that gives a child its own mount namespace where it may bind-mount over /etc/hosts:
     * {@code unshare -m} as root, else {@code unshare -m -r} (a user namespace); the test is skipped without one.
     */
    private static List<String> unshare(Path dir) throws IOException {
      Assumptions.assumeTrue(System.getProperty("os.name").toLowerCase().contains("linux"),
          "needs Linux mount namespaces (unshare)");
      Path probe = dir.resolve("hosts.probe");
      Files.writeString(probe, "127.0.0.1 tether-probe\n");
      List<String> tried = new ArrayList<>();
      for (List<String> prefix : List.of(List.of("unshare", "-m"), List.of("unshare", "-m", "-r"))) {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of("sh", "-c", "mount --bind \"$0\" /etc/hosts && grep -q tether-probe /etc/hosts",
            probe.toString()));
        try {
          Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
          boolean done = p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
          String out = new String(p.getInputStream().readNBytes(4096), StandardCharsets.UTF_8).trim();
          if (!done) {
            p.destroyForcibly();
          } else if (p.exitValue() == 0) {
            return prefix;
          }
          tried.add(String.join(" ", prefix) + ": " + (done ? "exit " + p.exitValue() : "timed out") + " " + out);
        } catch (IOException e) {
          tried.add(String.join(" ", prefix) + ": " + e.getMessage());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      }
      Assumptions.abort("no private mount namespace with a bind mount over /etc/hosts here (needs root, or user"
          + " namespaces): " + tried);
      return List.of();
    }

    String log() {
      try {
        return Files.readString(log, StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "";
      }
    }

    /** SIGTERM (graceful, shutdown_timeout 1s), then SIGKILL if it lingers; bounded. */
    void close() {
      process.destroy();
      try {
        if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
