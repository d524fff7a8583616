package tether.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import sun.misc.Signal;
import tether.Tether;
import tether.config.ConfigException;
import tether.config.ConfigLoader;
import tether.config.ConfigSource;
import tether.config.TetherConfig;

@Command(name = "run", mixinStandardHelpOptions = true,
    description = "Start the proxy. SIGHUP reloads the configuration; SIGTERM/SIGINT stop it gracefully.")
final class RunCommand implements Callable<Integer> {

  @Mixin
  ConfigOption config;

  @Override
  public Integer call() throws Exception {
    return run(config.path);
  }

  static int run(Path file) throws Exception {
    ConfigLoader loader = new ConfigLoader();
    return serve(() -> loader.load(file));
  }

  /** Starts Tether and blocks until the JVM is asked to stop (SIGTERM, SIGINT); SIGHUP reloads. */
  static int serve(ConfigSource source) throws Exception {
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
    } catch (Exception e) {
      System.err.println("tether: cannot start: " + e.getMessage());
      return 1;
    }
    Signal.handle(new Signal("HUP"), sig -> tether.reload());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      tether.shutdown().await();
      stopped.countDown();
    }, "tether-shutdown"));
    stopped.await();
    return 0;
  }
}
