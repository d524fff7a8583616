package tether.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.http.HttpServerRequest;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import tether.testing.Backends;
import tether.testing.TetherProcess;

/**
 * Start and stop as an operator meets them, on a real child process: a busy port, exit codes, signals (TERM, INT,
 * HUP, USR1, HUP under nohup) and {@code /healthz}.
 */
class ProcessLifecycleTest {

  private static final Duration EXIT = Duration.ofSeconds(20);
  private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");
  private static final Pattern ADMIN = Pattern.compile("admin on http://127\\.0\\.0\\.1:(\\d+)/");

  @TempDir
  Path dir;

  private final Backends backends = new Backends();
  private final List<TetherProcess> processes = new ArrayList<>();

  @AfterEach
  void close() throws InterruptedException {
    for (TetherProcess p : processes) {
      p.close();
    }
    backends.close();
  }

  private TetherProcess start(List<String> prefix, String... args) throws IOException {
    TetherProcess p = TetherProcess.start(dir, prefix, args);
    processes.add(p);
    return p;
  }

  private Path write(String yaml) throws IOException {
    return Files.writeString(dir.resolve("tether.yaml"), yaml);
  }

  private static String config(String listen, int adminPort, String backend, String extra) {
    return "listen: " + listen + "\n"
        + "admin: {address: 127.0.0.1, port: " + adminPort + ", token: s3cret}\n"
        + "workers: 1\n"
        + "shutdown_timeout: 20s\n"
        + "upstreams:\n  app:\n    servers: [{name: web1, address: \"" + backend + "\"}]\n"
        + extra;
  }

  private static int port(TetherProcess p, Pattern line) {
    p.awaitStdout("admin on http://");
    Matcher m = line.matcher(p.stdout());
    assertThat(m.find()).as("stdout: %s", p.stdout()).isTrue();
    return Integer.parseInt(m.group(1));
  }

  /** The proxy's and the admin listener's base URLs, once the process says it listens. */
  private record Urls(String proxy, String admin) {}

  private static Urls urls(TetherProcess p) {
    return new Urls("http://127.0.0.1:" + port(p, LISTENING), "http://127.0.0.1:" + port(p, ADMIN));
  }

  @ParameterizedTest(name = "run, busy {0}")
  @ValueSource(strings = {"listen[1]", "admin"})
  void aBusyPortStopsRunAtOnceWithOneLineNamingTheListener(String listener) throws Exception {
    try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int p = busy.getLocalPort();
      boolean proxy = listener.startsWith("listen");
      String listen = "[{address: 127.0.0.1, port: 0}, {address: 127.0.0.1, port: " + (proxy ? p : 0) + "}]";
      Path file = write(config(listen, proxy ? 0 : p, "127.0.0.1:9", ""));
      TetherProcess tether = start(List.of(), "run", "--config", file.toString());
      // before the fix, it never exited
      assertThat(tether.exitCode(EXIT)).as("stderr: %s", tether.stderr()).isEqualTo(1);
      assertThat(tether.stderr().lines()).containsExactly(
          "tether: " + listener + " 127.0.0.1:" + p + ": address already in use");
      assertThat(tether.stdout()).doesNotContain("listening on", "Exception");
    }
  }

  @ParameterizedTest(name = "demo, busy {0}")
  @CsvSource({"listen[0], --port, --admin-port", "admin, --admin-port, --port"})
  void aBusyPortStopsTheDemoToo(String listener, String busyOption, String freeOption) throws Exception {
    for (int demoPort = 8100; demoPort <= 8103; demoPort++) {
      Assumptions.assumeTrue(free(demoPort), "the demo servers' port " + demoPort + " is taken");
    }
    try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int p = busy.getLocalPort();
      TetherProcess demo = start(List.of(), "demo", busyOption, String.valueOf(p), freeOption, "0");
      assertThat(demo.exitCode(EXIT)).as("stderr: %s", demo.stderr()).isEqualTo(1);
      assertThat(demo.stderr().lines()).containsExactly(
          "tether: " + listener + " 127.0.0.1:" + p + ": address already in use");
    }
  }

  @ParameterizedTest(name = "SIG{0}")
  @ValueSource(strings = {"TERM", "INT"})
  void aStopSignalFailsHealthzDrainsInFlightRequestsAndExits0(String signal) throws Exception {
    assumeDeliverable(signal);
    AtomicReference<HttpServerRequest> held = new AtomicReference<>();
    Backends.Backend slow = backends.start("slow", held::set);
    Path file = write(config("[{address: 127.0.0.1, port: 0}]", 0, slow.address(), ""));
    TetherProcess tether = start(List.of(), "run", "--config", file.toString());
    Urls urls = urls(tether);

    HttpResponse<String> healthz = tether.get(urls.admin + "/healthz");
    assertThat(healthz.statusCode()).as("no token needed").isEqualTo(200);
    assertThat(healthz.body()).isEqualTo("ok\n");
    assertThat(tether.get(urls.admin + "/status").statusCode()).as("the rest needs it").isEqualTo(401);

    CompletableFuture<HttpResponse<String>> inFlight = HttpClient.newHttpClient().sendAsync(
        HttpRequest.newBuilder(URI.create(urls.proxy + "/slow")).timeout(EXIT).build(),
        HttpResponse.BodyHandlers.ofString());
    await().atMost(Duration.ofSeconds(10)).until(() -> held.get() != null);
    tether.signal(signal);
    // while draining, a load balancer or orchestrator in front is told to stop sending
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
        .until(() -> tether.get(urls.admin + "/healthz").statusCode() == 503);
    assertThat(tether.isAlive()).isTrue();
    held.get().response().end("finished");

    assertThat(inFlight.get().statusCode()).isEqualTo(200);
    assertThat(inFlight.get().body()).isEqualTo("finished");
    assertThat(tether.exitCode(EXIT)).as("stdout: %s", tether.stdout()).isEqualTo(0);
    assertThat(tether.stdout()).contains("SIG" + signal + " received", "stopped")
        .as("the drained request's access-log line is written before the exit").contains("\"GET /slow HTTP/1.1\" 200");
    assertThat(tether.stderr()).isEmpty();
  }

  @Test
  void usr1ReopensTheAccessLogAfterARenameAndHupReloads() throws Exception {
    Backends.Backend web1 = backends.start("web1");
    Path log = dir.resolve("access.log");
    Path rotated = dir.resolve("access.log.1");
    String yaml = config("[{address: 127.0.0.1, port: 0}]", 0, web1.address(), "access_log: {path: " + log + "}\n");
    Path file = write(yaml);
    TetherProcess tether = start(List.of(), "run", "--config", file.toString());
    Urls urls = urls(tether);

    assertThat(tether.get(urls.proxy + "/before").statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(log) && Files.readString(log).contains("/before"));
    Files.move(log, rotated); // what logrotate does, then: postrotate kill -USR1
    tether.signal("USR1");
    tether.awaitStdout("reopened log files: [" + log + "]");
    assertThat(tether.get(urls.proxy + "/after").statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(log) && Files.readString(log).contains("/after"));
    assertThat(Files.readString(rotated)).contains("/before").doesNotContain("/after");
    assertThat(tether.isAlive()).isTrue();

    Files.writeString(file, yaml.replace("    servers:", "    debug_header: true\n    servers:"));
    assumeDeliverable("HUP");
    tether.signal("HUP");
    tether.awaitStdout("configuration reloaded");
    assertThat(tether.get(urls.proxy + "/").headers().firstValue("X-Tether-Upstream")).hasValueSatisfying(
        v -> assertThat(v).startsWith("web1"));
    assertThat(tether.stdout()).doesNotContain("SIGHUP is ignored");
  }

  @Test
  void underNohupHupIsIgnoredAndAWarningSaysSoAtStart() throws Exception {
    Backends.Backend web1 = backends.start("web1");
    Path file = write(config("[{address: 127.0.0.1, port: 0}]", 0, web1.address(), ""));
    TetherProcess tether = start(List.of("nohup"), "run", "--config", file.toString());
    Urls urls = urls(tether);
    tether.awaitStdout("SIGHUP is ignored by this process (started with nohup?): reload with POST /reload");
    tether.signal("HUP");
    tether.signal("USR1"); // its answer shows the HUP before it was not the end of the process
    tether.awaitStdout("reopened log files");
    assertThat(tether.isAlive()).isTrue();
    assertThat(tether.get(urls.proxy + "/").statusCode()).isEqualTo(200);
    tether.signal("TERM");
    assertThat(tether.exitCode(EXIT)).isEqualTo(0);
  }

  private static boolean free(int port) {
    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Skips the rest of a test when this run was started with {@code signal} ignored (a background job of a
   * non-interactive shell ignores INT and QUIT, nohup HUP): the Tether it starts inherits that, so the JVM installs
   * no handler for it (the nohup test below shows what Tether then says).
   */
  private static void assumeDeliverable(String signal) throws IOException {
    int number = switch (signal) {
      case "HUP" -> 1;
      case "INT" -> 2;
      default -> 0;
    };
    long ignored = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("SigIgn:"))
        .mapToLong(l -> Long.parseUnsignedLong(l.substring(7).trim(), 16)).findFirst().orElse(0);
    Assumptions.assumeTrue(number == 0 || (ignored & (1L << (number - 1))) == 0,
        "SIG" + signal + " is ignored by this test run (started in the background or with nohup), so by Tether too");
  }
}
