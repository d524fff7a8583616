package tether.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import java.util.List;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;
import tether.testing.Backends;
import tether.testing.TetherHarness;

/**
 * The status page in a real headless Chromium: it loads, lists the servers, a killed one turns red by itself, and its
 * own buttons still work.
 */
class StatusPageBrowserTest {

  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

  private final Backends backends = new Backends();
  private TetherHarness tether;
  private WebDriver browser;

  @AfterEach
  void tearDown() {
    if (browser != null) {
      browser.quit();
    }
    if (tether != null) {
      tether.close();
    }
    backends.close();
  }

  @Test
  void aKilledServerTurnsRedWithoutReloadingThePage() throws Exception {
    assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
        "needs Debian's chromium and chromium-driver (.ci/run installs them)");
    Backends.Backend web1 = backends.start("web1");
    Backends.Backend web2 = backends.start("web2");
    Path config = Files.createTempFile("tether", ".yaml");
    Files.writeString(config, """
        listen: [{address: 127.0.0.1, port: 0}]
        admin: {address: 127.0.0.1, port: 0}
        workers: 1
        access_log: {enabled: false}
        upstreams:
          app:
            servers:
              - {name: web1, address: "%s"}
              - {name: web2, address: "%s"}
            health: {path: /health, interval: 300ms, timeout: 300ms, rise: 1, fall: 1}
        """.formatted(web1.address(), web2.address()));
    tether = TetherHarness.startFromFile(config);

    ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile()).addArguments("--headless=new",
        "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--user-data-dir=" + Files.createTempDirectory("chromium"));
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
        .usingAnyFreePort().build();
    browser = new ChromeDriver(service, options);
    browser.manage().window().setSize(new Dimension(414, 896)); // a phone
    browser.get(tether.adminUrl("/"));
    WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(10));
    wait.until(d -> d.findElements(By.cssSelector("tr[data-server]")).size() == 2);
    wait.until(d -> row("web1").equals(List.of("up", "rgb(46, 157, 87)")));

    backends.stop("web2");
    wait.until(d -> row("web2").equals(List.of("down", "rgb(211, 63, 63)")));
    assertThat(row("web1")).containsExactly("up", "rgb(46, 157, 87)");

    Path out = Path.of("target", "screenshots");
    Files.createDirectories(out);
    Files.write(out.resolve("status-page.png"), ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));

    // the page's own buttons: Chromium's same-origin fetch (Origin, Sec-Fetch-Site) passes the cross-site guard
    ((JavascriptExecutor) browser).executeScript(
        "[...document.querySelectorAll(\"tr[data-server='web1'] button\")].find(b => b.textContent === 'disable')"
            + ".click();");
    wait.until(d -> row("web1").equals(List.of("disabled", "rgb(138, 147, 163)")));
  }

  /** A server row's state class and state-cell colour, read in one go (the page re-renders every second). */
  private List<Object> row(String server) {
    Object r = ((JavascriptExecutor) browser).executeScript("""
        const tr = document.querySelector("tr[data-server='" + arguments[0] + "']");
        return tr ? [tr.className, getComputedStyle(tr.querySelector("td.state")).backgroundColor] : [];
        """, server);
    return r instanceof List<?> l ? List.copyOf(l) : List.of();
  }
}
