package tether.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code tether} alone (or with {@code --config}) runs the proxy, like {@code tether run}. */
@Command(name = "tether", mixinStandardHelpOptions = true, versionProvider = Version.class,
    description = "HTTP load balancer for stateful web apps: sticky sessions, unnoticed failover.",
    subcommands = {RunCommand.class, CheckCommand.class, DemoCommand.class})
public final class TetherCommand implements Callable<Integer> {

  @Mixin
  ConfigOption config;

  @Override
  public Integer call() throws Exception {
    return RunCommand.run(config.path);
  }
}
