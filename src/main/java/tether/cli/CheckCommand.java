package tether.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import tether.config.ConfigException;
import tether.config.ConfigLoader;
import tether.config.TetherConfig;

@Command(name = "check", mixinStandardHelpOptions = true,
    description = "Validate the configuration: exit 0, or print every error and exit 1 (like nginx -t).")
final class CheckCommand implements Callable<Integer> {

  @Mixin
  ConfigOption config;

  @Override
  public Integer call() {
    TetherConfig loaded;
    try {
      loaded = new ConfigLoader().load(config.path);
    } catch (ConfigException e) {
      e.errors().forEach(System.err::println);
      System.err.println(config.path + ": " + e.errors().size() + " error(s)");
      return 1;
    }
    System.out.print(ConfigSummary.describe(loaded));
    System.out.println(config.path + ": configuration OK");
    return 0;
  }
}
