package tether.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Debian's headless Chromium driven by its chromedriver, with the flags this closed machine needs (no background
 * networking, no QUIC, a fresh profile): what every browser test starts the same way.
 */
public final class Chromium {

  public static final Path BINARY = Path.of("/usr/bin/chromium");
  public static final Path DRIVER = Path.of("/usr/bin/chromedriver");

  private Chromium() {}

  /** Both installed (`.ci/run` installs chromium and chromium-driver). */
  public static boolean available() {
    return Files.isExecutable(BINARY) && Files.isExecutable(DRIVER);
  }

  /**
   * @param env        the browser's environment (e.g. {@code TZ}); empty for none
   * @param extraFlags added to the common ones
   */
  public static ChromeDriver start(Map<String, String> env, String... extraFlags) throws IOException {
    List<String> flags = new ArrayList<>(List.of("--headless=new", "--no-sandbox", "--disable-gpu",
        "--disable-dev-shm-usage", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--lang=en-US", "--hide-scrollbars",
        "--user-data-dir=" + Files.createTempDirectory("chromium")));
    flags.addAll(List.of(extraFlags));
    ChromeOptions options = new ChromeOptions().setBinary(BINARY.toFile()).addArguments(flags);
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile())
        .usingAnyFreePort().withEnvironment(env).build();
    return new ChromeDriver(service, options);
  }
}
