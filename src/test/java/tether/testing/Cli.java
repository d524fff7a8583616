package tether.testing;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a real client (curl, h2load, openssl) with a bounded time; stdout and stderr together. */
public final class Cli {

  /** What the command printed and how it exited (-1: killed at the time limit). */
  public record Result(int exit, String output) {}

  private Cli() {}

  public static Result run(int timeoutSeconds, String... command) {
    return run(timeoutSeconds, List.of(command));
  }

  public static Result run(int timeoutSeconds, List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getOutputStream().close();
      StringBuilder out = new StringBuilder();
      Thread reader = new Thread(() -> {
        try {
          out.append(new String(p.getInputStream().readAllBytes()));
        } catch (IOException e) {
          // process killed
        }
      });
      reader.start();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        reader.join(2000);
        return new Result(-1, out.toString());
      }
      reader.join(5000);
      return new Result(p.exitValue(), out.toString());
    } catch (IOException e) {
      throw new IllegalStateException(String.join(" ", command) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
