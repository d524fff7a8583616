package tether.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;
import tether.testing.Chromium;
import tether.testing.Backends;
import tether.testing.CookieClient;
import tether.testing.TetherHarness;

/**
 * The status page in a real headless Chromium, run in a time zone of its own: a killed server turns red by itself,
 * the counters (rates, errors by kind, sticky hits, re-pins) follow traffic, a drain deadline counts down, times are
 * the browser's, and at phone width the servers are cards whose buttons work (disable asks first, every action says
 * how it went). Screenshots at both widths go to {@code target/screenshots/}.
 */
class StatusPageBrowserTest {

  private static final Path SCREENSHOTS = Path.of("target", "screenshots");
  /** Not the machine's zone, and not a whole hour from UTC: a time shown in any other zone cannot match. */
  private static final ZoneId BROWSER_ZONE = ZoneId.of("Asia/Kathmandu");
  private static final String UP = "rgb(46, 157, 87)";
  private static final String DOWN = "rgb(211, 63, 63)";
  private static final String DRAIN = "rgb(58, 123, 213)";
  private static final String DISABLED = "rgb(138, 147, 163)";

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
  void desktopShowsStateCountersAndTimesWithoutReloadingThePage() throws Exception {
    start();
    open(1366, 900, false);
    wait.until(d -> row("web1").equals(List.of("up", UP)) && row("web2").equals(List.of("up", UP)));

    // traffic: three users pinned, more requests on their pins, one 500 from the application
    CookieClient[] users = {new CookieClient(tether), new CookieClient(tether), new CookieClient(tether)};
    for (CookieClient user : users) {
      for (int i = 0; i < 4; i++) {
        user.get("/");
      }
    }
    users[0].get("/boom");
    String boomed = users[0].debug().split(";")[0];
    JsonObject app = upstreamJson();
    assertThat(app.getLong("sticky_new")).isEqualTo(3);
    wait.until(d -> stat("sticky-hits").equals(app.getLong("sticky_hits").toString())
        && stat("sticky-new").equals("3"));
    wait.until(d -> text("tr[data-server='" + boomed + "'] td[data-label='errors']").contains("5xx 1"));

    // requests/s now, from successive counters while traffic runs
    AtomicBoolean busy = new AtomicBoolean(true);
    Thread load = new Thread(() -> {
      while (busy.get()) {
        users[1].get("/");
        sleep(20);
      }
    });
    load.start();
    try {
      wait.until(d -> Double.parseDouble(stat("rate").replace("–", "0")) > 1);
    } finally {
      busy.set(false);
      load.join();
    }

    // a killed server turns red by itself; its pinned users are re-pinned, and the page says why
    String home = users[2].debug().split(";")[0];
    String other = home.equals("web1") ? "web2" : "web1";
    backends.stop(home);
    wait.until(d -> row(home).equals(List.of("down", DOWN)));
    assertThat(row(other)).containsExactly("up", UP);
    users[2].get("/");
    wait.until(d -> text("[data-stat='repins'] .value").equals("1")
        && text("[data-stat='repins'] .sub").equals("down 1"));
    wait.until(d -> text("tr[data-server='" + home + "'] td.state .small").matches("for \\d+s"));

    // the drain deadline counts down
    assertThat(tether.admin("POST", "/servers/app/" + other + "/drain?deadline=30s").statusCode()).isEqualTo(200);
    wait.until(d -> row(other).equals(List.of("drain", DRAIN)));
    int first = countdownSeconds(other);
    assertThat(first).isBetween(25, 30);
    wait.until(d -> countdownSeconds(other) < first);

    // version and uptime, from /status; the uptime moves
    JsonObject status = new JsonObject(tether.admin("GET", "/status").body());
    assertThat(text("#version")).startsWith(status.getString("version") + " · Java ");
    String uptime = text("#uptime");
    assertThat(uptime).matches("\\d+s|\\d+m \\d\\ds");
    wait.until(d -> !text("#uptime").equals(uptime));

    // one time zone, the browser's: times from /status (UTC) are shown as Kathmandu reads them
    assertThat(text("#zone")).matches("Asia/Kath?mandu \\(UTC\\+05:45\\)"); // ICU still says Katmandu
    DateTimeFormatter clock = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(BROWSER_ZONE);
    List<?> check = (List<?>) js("""
        const e = document.querySelector("tr[data-server='" + arguments[0] + "'] [data-at]");
        return e ? [e.dataset.at, e.textContent] : ["", ""];""", other);
    assertThat(check.get(1)).isEqualTo("at " + clock.format(Instant.parse((String) check.get(0))));
    assertThat(text("#started")).endsWith(clock.format(Instant.parse(status.getString("started_at"))));
    assertThat(text("tr[data-server='" + other + "'] td[data-label='last check']")).matches("ok 200 · [\\d.]+ ms.*");

    screenshot("status-desktop");
  }

  @Test
  void atPhoneWidthServersAreCardsWhoseButtonsWork() throws Exception {
    start();
    CookieClient user = new CookieClient(tether);
    for (int i = 0; i < 3; i++) {
      user.get("/");
    }
    open(390, 844, true);
    wait.until(d -> row("web1").equals(List.of("up", UP)) && row("web2").equals(List.of("up", UP)));
    wait.until(d -> stat("sticky-hits").equals("2"));

    // cards: a grid per server, no header row, nothing wider than the screen
    assertThat(js("return getComputedStyle(document.querySelector(\"tr[data-server='web1']\")).display"))
        .isEqualTo("grid");
    assertThat(js("return getComputedStyle(document.querySelector('thead')).display")).isEqualTo("none");
    assertThat(((Number) js("return document.documentElement.scrollWidth")).intValue())
        .isLessThanOrEqualTo(((Number) js("return window.innerWidth")).intValue());

    // disable asks first: cancelled, nothing happens
    button("web2", "disable").click();
    wait.until(d -> dialogOpen());
    assertThat(text("#confirm-title")).isEqualTo("Disable web2?");
    browser.findElement(By.id("confirm-cancel")).click();
    wait.until(d -> text("#toast").equals("disable app/web2: cancelled"));
    assertThat(row("web2")).containsExactly("up", UP);

    // confirmed: feedback, and the card turns grey
    WebElement disable = button("web1", "disable");
    assertThat(disable.isDisplayed()).isTrue();
    disable.click();
    wait.until(d -> dialogOpen());
    screenshot("status-phone-confirm");
    browser.findElement(By.id("confirm-ok")).click();
    wait.until(d -> text("#toast").equals("app/web1 is disabled"));
    wait.until(d -> row("web1").equals(List.of("disabled", DISABLED)));
    assertThat(button("web1", "disable").isEnabled()).isFalse();

    // drain from the page with a deadline: it counts down on the card
    button("web2", "drain").click();
    wait.until(d -> dialogOpen());
    new Select(browser.findElement(By.id("deadline"))).selectByValue("30s");
    browser.findElement(By.id("confirm-ok")).click();
    wait.until(d -> text("#toast").equals("app/web2 is draining, deadline in 30s"));
    wait.until(d -> row("web2").equals(List.of("drain", DRAIN)));
    int first = countdownSeconds("web2");
    wait.until(d -> countdownSeconds("web2") < first);
    js("window.scrollTo(0, 0)");
    screenshot("status-phone");

    button("web1", "enable").click(); // no question asked
    wait.until(d -> text("#toast").equals("app/web1 is enabled"));
    wait.until(d -> row("web1").equals(List.of("up", UP)));
  }

  private void start() throws Exception {
    Backends.Backend web1 = backends.start("web1", req -> answer(req, "web1"));
    Backends.Backend web2 = backends.start("web2", req -> answer(req, "web2"));
    Path config = Files.createTempFile("tether", ".yaml");
    Files.writeString(config, """
        listen: [{address: 127.0.0.1, port: 0}]
        admin: {address: 127.0.0.1, port: 0}
        workers: 1
        access_log: {enabled: false}
        upstreams:
          app:
            sticky: {mode: cookie, secret: s}
            debug_header: true
            servers:
              - {name: web1, address: "%s"}
              - {name: web2, address: "%s"}
            health: {path: /health, interval: 1s, timeout: 1s, rise: 1, fall: 1}
        """.formatted(web1.address(), web2.address()));
    tether = TetherHarness.startFromFile(config);
  }

  private static void answer(io.vertx.core.http.HttpServerRequest req, String name) {
    req.response().setStatusCode(req.path().equals("/boom") ? 500 : 200).end(name);
  }

  /** Chromium with a viewport of exactly this size ({@code phone}: touch, the page's viewport meta applies). */
  private void open(int width, int height, boolean phone) throws Exception {
    ChromeDriver chrome = Chromium.start(Map.of("TZ", BROWSER_ZONE.getId()));
    browser = chrome;
    chrome.executeCdpCommand("Emulation.setDeviceMetricsOverride", Map.of("width", width, "height", height,
        "deviceScaleFactor", 1, "mobile", phone));
    if (phone) {
      chrome.executeCdpCommand("Emulation.setTouchEmulationEnabled", Map.of("enabled", true));
    }
    browser.get(tether.adminUrl("/"));
    wait = new WebDriverWait(browser, Duration.ofSeconds(30)); // (Chromium on a busy 2-core machine)
    wait.withMessage(() -> "page: " + text("main") + "\n/status: " + upstreamJson().encode());
    wait.until(d -> d.findElements(By.cssSelector("tr[data-server]")).size() == 2);
  }

  private JsonObject upstreamJson() {
    return new JsonObject(tether.admin("GET", "/status").body()).getJsonArray("upstreams").getJsonObject(0);
  }

  /** A server row's state class and badge colour, read in one go. */
  private List<Object> row(String server) {
    Object r = js("""
        const tr = document.querySelector("tr[data-server='" + arguments[0] + "']");
        return tr ? [tr.className, getComputedStyle(tr.querySelector(".badge")).backgroundColor] : [];
        """, server);
    return r instanceof List<?> l ? List.copyOf(l) : List.of();
  }

  private WebElement button(String server, String action) {
    WebElement b = browser.findElement(By.cssSelector("tr[data-server='" + server + "'] button[data-action='"
        + action + "']"));
    js("arguments[0].scrollIntoView({block: 'center'})", b);
    return b;
  }

  private boolean dialogOpen() {
    return Boolean.TRUE.equals(js("return document.getElementById('confirm').open"));
  }

  private int countdownSeconds(String server) {
    Matcher m = Pattern.compile("deadline in (\\d+):(\\d\\d)")
        .matcher(text("tr[data-server='" + server + "'] .countdown"));
    assertThat(m.matches()).isTrue();
    return Integer.parseInt(m.group(1)) * 60 + Integer.parseInt(m.group(2));
  }

  private String stat(String name) {
    return text("[data-stat='" + name + "'] .value");
  }

  private String text(String selector) {
    Object t = js("const e = document.querySelector(arguments[0]); return e ? e.textContent : '';", selector);
    return String.valueOf(t);
  }

  private Object js(String script, Object... args) {
    return ((JavascriptExecutor) browser).executeScript(script, args);
  }

  /** What the screen shows, as {@code name}, and the whole page, as {@code name-full.png}. */
  private void screenshot(String name) throws Exception {
    Files.createDirectories(SCREENSHOTS);
    Files.write(SCREENSHOTS.resolve(name + ".png"), ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
    Number width = (Number) js("return window.innerWidth");
    Number height = (Number) js("return document.documentElement.scrollHeight");
    Map<String, Object> shot = ((ChromeDriver) browser).executeCdpCommand("Page.captureScreenshot", Map.of(
        "captureBeyondViewport", true, "clip", Map.of("x", 0, "y", 0, "width", width, "height", height, "scale", 1)));
    Files.write(SCREENSHOTS.resolve(name + "-full.png"), Base64.getDecoder().decode((String) shot.get("data")));
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
