package tether.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --config FILE} option shared by commands. */
public final class ConfigOption {

  @Option(names = {"-c", "--config"}, paramLabel = "FILE", defaultValue = "conf/tether.yaml",
      description = "YAML configuration (default: ${DEFAULT-VALUE})")
  Path path;
}
