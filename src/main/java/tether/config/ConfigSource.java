package tether.config;

/** Where the configuration comes from, read again on every reload. */
@FunctionalInterface
public interface ConfigSource {

  TetherConfig load() throws ConfigException;
}
