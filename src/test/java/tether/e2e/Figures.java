package tether.e2e;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What the e2e scenarios measured, one line each: printed when measured, and all together after the test class.
 *
 * <pre>
 * &#64;RegisterExtension static final Figures figures = new Figures();
 * </pre>
 */
final class Figures implements AfterAllCallback {

  private final List<String> lines = new CopyOnWriteArrayList<>();

  void add(String format, Object... args) {
    String line = String.format(format, args);
    lines.add(line);
    System.out.println("e2e figure: " + line);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    System.out.println("e2e figures:");
    lines.forEach(f -> System.out.println("  " + f));
  }
}
