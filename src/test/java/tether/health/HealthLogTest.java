package tether.health;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import tether.testing.Backends;
import tether.testing.ProxyTestBase;
import tether.testing.TetherHarness;
import tether.upstream.AdminState;

/** Status changes are logged once each, with what is left; an upstream with nothing left says so once. */
class HealthLogTest extends ProxyTestBase {

  private final ListAppender<ILoggingEvent> log = new ListAppender<>();

  @AfterEach
  void detach() {
    ((Logger) LoggerFactory.getLogger(HealthLog.class)).detachAppender(log);
  }

  @Test
  void eachChangeIsOneLineAndAnEmptyUpstreamIsAnErrorOncePerTransition() {
    Backends.Backend a = backends.start("a");
    Backends.Backend b = backends.start("b");
    tether = TetherHarness.start(upstream("", a, b));
    log.start();
    ((Logger) LoggerFactory.getLogger(HealthLog.class)).addAppender(log);
    var app = tether.tether().proxy().snapshot().upstreams().get("app");
    app.byName("a").admin(AdminState.DISABLED, 0, "admin disable");
    app.byName("a").admin(AdminState.DISABLED, 0, "admin disable"); // no change: no line
    app.byName("b").admin(AdminState.DISABLED, 0, "admin disable");
    app.byName("b").admin(AdminState.ACTIVE, 0, "admin enable");
    assertThat(log.list).extracting(e -> e.getLevel() + " " + e.getFormattedMessage()).containsExactly(
        "WARN app/a disabled (was up): admin disable; 1 of 2 servers left in upstream app",
        "WARN app/b disabled (was up): admin disable; 0 of 2 servers left in upstream app",
        "ERROR upstream app has no server available: requests get 503",
        "INFO app/b up (was disabled): admin enable",
        "INFO upstream app has a server available again (1 of 2)");
    assertThat(log.list.get(0).getLevel()).isEqualTo(Level.WARN);
  }
}
