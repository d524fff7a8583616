package tether.testing;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Tether as a child JVM ({@code java -cp <this classpath> tether.Main ...}, no packaging needed), with its stdout
 * and stderr in files, for what only a real process shows: exit codes and signals. Killed on close if still alive.
 */
public final class TetherProcess implements AutoCloseable {

  private final Process process;
  private final Path out;
  private final Path err;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private TetherProcess(Process process, Path out, Path err) {
    this.process = process;
    this.out = out;
    this.err = err;
  }

  /** {@code java ... tether.Main args}, its output in {@code dir}. */
  public static TetherProcess start(Path dir, String... args) throws IOException {
    return start(dir, List.of(), args);
  }

  /** {@code prefix} is a command that runs the rest, such as {@code nohup}. */
  public static TetherProcess start(Path dir, List<String> prefix, String... args) throws IOException {
    List<String> command = new ArrayList<>(prefix);
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // surefire's manifest-only booter jar stands for the whole test classpath in java.class.path
    command.addAll(List.of("-Xmx128m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp",
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")), "tether.Main"));
    command.addAll(List.of(args));
    Path out = Files.createTempFile(dir, "tether-", ".out");
    Path err = Files.createTempFile(dir, "tether-", ".err");
    Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    return new TetherProcess(p, out, err);
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Sends {@code signal} ({@code TERM}, {@code USR1}, ...) with the shell's kill (no procps needed). */
  public void signal(String signal) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("sh", "-c", "kill -s " + signal + " " + pid()).inheritIO().start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      throw new IllegalStateException("kill -" + signal + " " + pid() + " failed");
    }
  }

  /** The exit code, waiting at most {@code timeout}; fails if the process is still running then. */
  public int exitCode(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("tether still running after " + timeout + "\nstdout:\n" + stdout() + "\nstderr:\n"
          + stderr());
    }
    return process.exitValue();
  }

  public String stdout() {
    return read(out);
  }

  public String stderr() {
    return read(err);
  }

  /** Waits (bounded) until stdout contains {@code text}. */
  public void awaitStdout(String text) {
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
        .failFast("tether exited", () -> !process.isAlive())
        .until(() -> stdout().contains(text));
  }

  /** GET {@code url}; an {@link IllegalStateException} when nothing answers. */
  public HttpResponse<String> get(String url) {
    try {
      return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }
}
