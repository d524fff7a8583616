package tether.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import tether.Tether;
import tether.config.ConfigException;
import tether.config.ConfigLoader;
import tether.config.TetherConfig;

@Command(name = "run", mixinStandardHelpOptions = true, description = "Start the proxy.")
final class RunCommand implements Callable<Integer> {

  @Mixin
  ConfigOption config;

  @Override
  public Integer call() throws Exception {
    return run(config.path);
  }

  static int run(Path file) throws Exception {
    TetherConfig config;
    try {
      config = new ConfigLoader().load(file);
    } catch (ConfigException e) {
      e.errors().forEach(System.err::println);
      return 1;
    }
    return serve(config);
  }

  /** Starts Tether and blocks until the JVM is asked to stop (SIGTERM, SIGINT). */
  static int serve(TetherConfig config) throws Exception {
    Tether tether;
    try {
      tether = Tether.start(config).await();
    } catch (Exception e) {
      System.err.println("tether: cannot start: " + e.getMessage());
      return 1;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      tether.stop().await();
      stopped.countDown();
    }, "tether-shutdown"));
    stopped.await();
    return 0;
  }
}
