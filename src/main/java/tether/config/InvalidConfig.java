package tether.config;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Thrown by a config record's compact constructor when a rule across its fields is broken; carries every broken
 * rule at once, each naming the YAML key to blame (relative to the record's own mapping) so the loader can report
 * it as {@code file:line: key.path: message}. The message joins them as {@code key: message; key: message}.
 */
public final class InvalidConfig extends IllegalArgumentException {

  /** One broken rule: {@code key} is the YAML key (e.g. {@code timeout}), {@code message} says why. */
  public record Problem(String key, String message) {}

  private final List<Problem> problems;

  public InvalidConfig(List<Problem> problems) {
    super(problems.stream().map(p -> p.key() + ": " + p.message()).collect(Collectors.joining("; ")));
    this.problems = List.copyOf(problems);
  }

  public List<Problem> problems() {
    return problems;
  }

  static void throwIfAny(List<Problem> problems) {
    if (!problems.isEmpty()) {
      throw new InvalidConfig(problems);
    }
  }
}
