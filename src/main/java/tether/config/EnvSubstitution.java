package tether.config;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import org.apache.commons.text.StringSubstitutor;

/**
 * {@code ${NAME}} and {@code ${NAME:-default}} in a config value, as in docker compose and the shell: the default is
 * taken when NAME is unset or empty; an unset NAME without a default is an error naming it (never an empty string).
 * {@code $${} is a literal {@code ${}; any other {@code $} is literal as it stands. A variable's value is not expanded
 * again. Scanning, nesting and escapes are commons-text's {@link StringSubstitutor}; the lookup here only splits off
 * the default and remembers what was missing, so every missing name is reported, not only the first.
 */
final class EnvSubstitution implements UnaryOperator<String> {

  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  /** A {@code ${} (not escaped as {@code $${}) that no {@code }} closes. */
  private static final Pattern UNCLOSED = Pattern.compile("(?<!\\$)\\$\\{[^}]*$");
  private static final String DEFAULT = ":-";

  private final UnaryOperator<String> env;

  EnvSubstitution(UnaryOperator<String> env) {
    this.env = env;
  }

  /** @throws IllegalArgumentException naming the unset variables, or the malformed reference */
  @Override
  public String apply(String text) {
    if (text == null || !text.contains("${")) {
      return text;
    }
    if (UNCLOSED.matcher(text).find()) {
      throw new IllegalArgumentException("\"" + text + "\": ${ is not closed by } (expected: ${NAME} or"
          + " ${NAME:-default}; $${ for a literal ${)");
    }
    Set<String> missing = new LinkedHashSet<>();
    Set<String> malformed = new LinkedHashSet<>();
    StringSubstitutor substitutor = new StringSubstitutor(reference -> lookup(reference, missing, malformed));
    substitutor.setValueDelimiterMatcher(null); // the default is split off in lookup, which must see it
    substitutor.setDisableSubstitutionInValues(true);
    String out = substitutor.replace(text);
    if (!malformed.isEmpty()) {
      throw new IllegalArgumentException("${" + malformed.iterator().next() + "}: not a variable name (expected:"
          + " ${NAME} or ${NAME:-default}, NAME of letters, digits and _; $${ for a literal ${)");
    }
    if (!missing.isEmpty()) {
      String first = missing.iterator().next();
      throw new IllegalArgumentException(missing.size() == 1
          ? "variable " + first + " is not set (expected: set it, or give a default: ${" + first + ":-default})"
          : "variables " + String.join(", ", missing) + " are not set (expected: set them, or give defaults: ${"
              + first + ":-default})");
    }
    return out;
  }

  private String lookup(String reference, Set<String> missing, Set<String> malformed) {
    int split = reference.indexOf(DEFAULT);
    String name = split < 0 ? reference : reference.substring(0, split);
    if (!NAME.matcher(name).matches()) {
      malformed.add(reference);
      return "";
    }
    String value = env.apply(name);
    if (split >= 0 && (value == null || value.isEmpty())) {
      return reference.substring(split + DEFAULT.length());
    }
    if (value == null) {
      missing.add(name);
      return "";
    }
    return value;
  }
}
