package tether.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;
import tether.testing.Chromium;
import tether.testing.Backends;
import tether.testing.TetherHarness;

/**
 * The error page as a user sees it, in a real headless Chromium, with the page shipped in
 * {@code conf/error-pages/50x.html}: during maintenance (the sticky cookie untouched, and the user back on its server
 * when it ends) and during an outage (every server down). Screenshots go to {@code target/screenshots/}.
 */
class ErrorPageBrowserTest {

  private static final Path SCREENSHOTS = Path.of("target", "screenshots");
  private static final Path PAGE = Path.of("conf/error-pages/50x.html").toAbsolutePath();
  private static final String HEADING = "We'll be back in a moment";

  private final Backends backends = new Backends();
  private TetherHarness tether;
  private WebDriver browser;
  private WebDriverWait wait;

  @BeforeEach
  void needsChromium() {
    assumeTrue(Chromium.available(),
        "needs Debian's chromium and chromium-driver (.ci/run installs them)");
  }

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
  void theShippedPageDuringMaintenanceAndDuringAnOutage() throws Exception {
    Backends.Backend web1 = backends.start("web1");
    Backends.Backend web2 = backends.start("web2");
    tether = TetherHarness.start("""
        admin: {address: 127.0.0.1, port: 0}
        error_pages: {502: "%1$s", 503: "%1$s", 504: "%1$s"}
        upstreams:
          app:
            sticky: {mode: cookie, secret: s}
            health: {path: /health, interval: 1s, timeout: 1s, rise: 1, fall: 1}
            servers:
              - {name: web1, address: "%2$s"}
              - {name: web2, address: "%3$s"}
        """.formatted(PAGE, web1.address(), web2.address()));
    open();
    browser.get(tether.url("/shop"));
    String home = text();
    assertThat(home).isIn("web1", "web2");
    Cookie pin = browser.manage().getCookieNamed("TETHER");
    assertThat(pin).isNotNull();

    // maintenance: the page, 503, and the pin kept as it was
    assertThat(tether.admin("POST", "/upstreams/app/maintenance/on?retry_after=15m").statusCode()).isEqualTo(200);
    browser.navigate().refresh();
    wait.until(d -> heading().equals(HEADING));
    assertThat(status()).isEqualTo(503);
    assertThat(browser.getTitle()).isEqualTo("Back in a moment");
    assertThat(browser.manage().getCookieNamed("TETHER").getValue()).isEqualTo(pin.getValue());
    screenshot("error-page-maintenance");

    // maintenance over: the same server as before, the same pin
    assertThat(tether.admin("POST", "/upstreams/app/maintenance/off").statusCode()).isEqualTo(200);
    browser.navigate().refresh();
    wait.until(d -> text().equals(home));
    assertThat(status()).isEqualTo(200);
    assertThat(browser.manage().getCookieNamed("TETHER").getValue()).isEqualTo(pin.getValue());

    // an outage: every server down
    backends.stop("web1");
    backends.stop("web2");
    await().atMost(Duration.ofSeconds(10)).until(() -> tether.get("/").statusCode() == 503);
    browser.navigate().refresh();
    wait.until(d -> heading().equals(HEADING));
    assertThat(status()).isEqualTo(503);
    assertThat(text()).contains("Please try again in a few minutes.")
        .doesNotContain("web1", "web2", "127.0.0.1", "upstream", "Service Unavailable");
    assertThat(js("return document.querySelectorAll('link[href], script[src], img[src]').length"))
        .as("self-contained: nothing else to load").isEqualTo(0L);
    screenshot("error-page-outage");
  }

  private void open() throws Exception {
    ChromeDriver chrome = Chromium.start(Map.of());
    browser = chrome;
    chrome.executeCdpCommand("Emulation.setDeviceMetricsOverride", Map.of("width", 1024, "height", 640,
        "deviceScaleFactor", 1, "mobile", false));
    wait = new WebDriverWait(browser, Duration.ofSeconds(30)); // (Chromium on a busy 2-core machine)
    wait.withMessage(() -> "page: " + text());
  }

  /** The HTTP status of the page shown (Navigation Timing). */
  private long status() {
    return (Long) js("return performance.getEntriesByType('navigation')[0].responseStatus");
  }

  private String heading() {
    return String.valueOf(js("const h = document.querySelector('h1'); return h ? h.textContent : '';"));
  }

  private String text() {
    return String.valueOf(js("return document.body ? document.body.innerText.trim() : '';"));
  }

  private Object js(String script) {
    return ((JavascriptExecutor) browser).executeScript(script);
  }

  private void screenshot(String name) throws Exception {
    Files.createDirectories(SCREENSHOTS);
    Files.write(SCREENSHOTS.resolve(name + ".png"), ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
  }
}
