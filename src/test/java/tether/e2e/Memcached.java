package tether.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/** A real memcached, a child process of the test JVM, on a free loopback port (TCP only). */
final class Memcached implements AutoCloseable {

  private final Process process;
  private final int port;

  private Memcached(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  /** Starts memcached; a port taken between choosing it and binding it is retried with another. */
  static Memcached start(Path binary, Path dir) throws IOException {
    String lastLog = "";
    for (int attempt = 1; attempt <= 3; attempt++) {
      Memcached m = startOn(binary, dir, Ports.free());
      if (m.process.isAlive()) {
        return m;
      }
      lastLog = Files.readString(dir.resolve("memcached.log"));
    }
    throw new IllegalStateException("memcached did not start: " + lastLog);
  }

  /** Starts memcached on {@code port} (one that a stopped memcached had: it comes back where it was). */
  static Memcached startOn(Path binary, Path dir, int port) throws IOException {
    Path log = dir.resolve("memcached.log");
    List<String> cmd = new ArrayList<>(List.of(binary.toString(), "-l", "127.0.0.1", "-p", String.valueOf(port),
        "-U", "0", "-m", "64", "-c", "1024"));
    if (Ports.isRoot()) {
      cmd.addAll(List.of("-u", "nobody")); // memcached refuses to run as root without -u
    }
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      Awaitility.await("memcached answering on 127.0.0.1:" + port).atMost(Duration.ofSeconds(10))
          .pollInterval(Duration.ofMillis(20)).until(() -> !p.isAlive() || Ports.answers(port));
    } catch (ConditionTimeoutException e) {
      p.destroyForcibly();
      throw new IllegalStateException("memcached did not answer on port " + port + ": " + Files.readString(log));
    }
    return new Memcached(p, port);
  }

  /** The value of {@code key} (text protocol), or null when memcached has none. */
  String get(String key) throws IOException {
    try (java.net.Socket s = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port)) {
      s.getOutputStream().write(("get " + key + "\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      var in = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(),
          java.nio.charset.StandardCharsets.UTF_8));
      String head = in.readLine();
      return head == null || head.equals("END") ? null : in.readLine();
    }
  }

  int port() {
    return port;
  }

  long pid() {
    return process.pid();
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
