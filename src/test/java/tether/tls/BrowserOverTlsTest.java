package tether.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.WebDriverWait;
import tether.testing.Chromium;
import tether.testing.Backends;
import tether.testing.Cli;
import tether.testing.ProxyTestBase;
import tether.testing.TestCertificates;
import tether.testing.TetherHarness;

/** A real browser (headless Chromium) over TLS: it speaks h2, gets a Secure sticky cookie and stays on its server. */
class BrowserOverTlsTest extends ProxyTestBase {


  @TempDir
  Path dir;

  private WebDriver browser;

  @AfterEach
  void quit() {
    if (browser != null) {
      browser.quit();
    }
  }

  @Test
  void chromiumLoadsThePageOverH2AndStaysOnItsServer() throws Exception {
    assumeTrue(Chromium.available(),
        "needs Debian's chromium and chromium-driver (.ci/run installs them)");
    TestCertificates certs = TestCertificates.in(dir);
    TestCertificates.Pair cert = certs.leaf("localhost", "localhost", "127.0.0.1");
    Backends.Backend[] servers = new Backends.Backend[3];
    for (int i = 0; i < 3; i++) {
      String name = "web" + (i + 1);
      servers[i] = backends.start(name, req -> req.response().putHeader("Content-Type", "text/html")
          .end("<!doctype html><title>" + name + "</title><p id=server>" + name + "</p><p id=proto>"
              + req.getHeader("X-Forwarded-Proto") + "</p>"));
    }
    tether = TetherHarness.start("listen: [{address: 127.0.0.1, port: 0, tls: {cert: \"" + cert.cert() + "\", key: \""
        + cert.key() + "\"}, hsts: {max_age: 1h}}]\n"
        + upstream("    sticky: {mode: cookie, cookie: TETHER, secret: [k1]}\n", servers));

    // trust exactly this test certificate (by its public key), as a real CA-issued one would be trusted
    Cli.Result spki = Cli.run(20, "sh", "-c", "openssl x509 -in " + cert.cert() + " -pubkey -noout"
        + " | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64");
    assertThat(spki.exit()).isZero();
    browser = Chromium.start(java.util.Map.of(),
        "--ignore-certificate-errors-spki-list=" + spki.output().trim());
    String url = "https://localhost:" + tether.port() + "/";
    browser.get(url);
    WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(10));
    wait.until(d -> !d.findElements(By.id("server")).isEmpty());
    String first = browser.findElement(By.id("server")).getText();
    assertThat(browser.findElement(By.id("proto")).getText()).isEqualTo("https");
    Object protocol = ((JavascriptExecutor) browser).executeScript(
        "return performance.getEntriesByType('navigation')[0].nextHopProtocol");
    assertThat(protocol).isEqualTo("h2");
    Cookie cookie = browser.manage().getCookieNamed("TETHER");
    assertThat(cookie).isNotNull();
    assertThat(cookie.isSecure()).isTrue();
    assertThat(cookie.isHttpOnly()).isTrue();
    for (int i = 0; i < 5; i++) {
      browser.navigate().refresh();
      wait.until(d -> !d.findElements(By.id("server")).isEmpty());
      assertThat(browser.findElement(By.id("server")).getText()).isEqualTo(first);
    }
  }
}
