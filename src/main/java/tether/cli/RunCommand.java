package tether.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import tether.Tether;
import tether.config.ConfigException;
import tether.config.ConfigLoader;
import tether.config.ConfigSource;
import tether.config.ListenException;
import tether.config.TetherConfig;

@Command(name = "run", mixinStandardHelpOptions = true,
    description = "Start the proxy. SIGHUP reloads the configuration; SIGTERM/SIGINT stop it gracefully (exit 0);"
        + " SIGUSR1 reopens the log files.")
final class RunCommand implements Callable<Integer> {

  @Mixin
  ConfigOption config;

  @Override
  public Integer call() throws Exception {
    return run(config.path);
  }

  static int run(Path file) {
    ConfigLoader loader = new ConfigLoader();
    return serve(() -> loader.load(file), t -> { });
  }

  /**
   * Starts Tether, calls {@code started}, then serves until SIGTERM or SIGINT (see {@link Signals}).
   *
   * @return 0 after a graceful stop; 1 when the configuration is invalid or a listener cannot bind, with one line
   *     per error on stderr ({@code tether: listen[0] 0.0.0.0:8080: address already in use})
   */
  static int serve(ConfigSource source, Consumer<Tether> started) {
    TetherConfig config;
    try {
      config = source.load();
    } catch (ConfigException e) {
      e.errors().forEach(System.err::println);
      return 1;
    }
    Tether tether;
    try {
      tether = Tether.start(source, config, List.of()).await();
    } catch (ListenException e) {
      System.err.println("tether: " + e.getMessage());
      return 1;
    } catch (Exception e) {
      System.err.println("tether: cannot start: " + e);
      return 1;
    }
    started.accept(tether);
    return Signals.serveUntilStopped(tether);
  }
}
