package tether.config;

import java.util.List;

/** A configuration that failed validation; carries every error found, each naming file, line and key path. */
public final class ConfigException extends Exception {

  private final List<String> errors;

  public ConfigException(List<String> errors) {
    super(errors.size() + " configuration error(s):\n  " + String.join("\n  ", errors));
    this.errors = List.copyOf(errors);
  }

  public List<String> errors() {
    return errors;
  }
}
