package tether.sticky;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The store's up/down state machine, without sockets: every server connected and no failures in a row. */
class StoreHealthTest {

  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private final Logger log = (Logger) LoggerFactory.getLogger("tether.sticky.store");

  @BeforeEach
  void capture() {
    logged.start();
    log.addAppender(logged);
  }

  @AfterEach
  void release() {
    log.detachAppender(logged);
  }

  private List<String> lines() {
    return logged.list.stream().map(e -> e.getLevel() + " " + e.getFormattedMessage()).toList();
  }

  @Test
  void upWhenEveryServerIsConnectedAndEachChangeIsLoggedOnce() {
    StoreHealth h = new StoreHealth("memcached [a:1, b:1]", 2);
    h.connected("a:1");
    assertThat(h.up()).isFalse();
    h.connected("b:1");
    assertThat(h.up()).isTrue();
    h.announce(); // the client started: its first state is logged
    h.announce();
    h.lost("a:1");
    h.lost("b:1");
    h.failed("x");
    assertThat(h.up()).isFalse();
    h.connected("a:1");
    h.connected("b:1");
    assertThat(h.up()).isTrue();
    assertThat(lines()).containsExactly(
        "INFO sticky store memcached [a:1, b:1] up: learned sessions are shared (connected to b:1)",
        "WARN sticky store memcached [a:1, b:1] down: learning locally and serving on, sessions learned meanwhile"
            + " are written to it when it is back (connection to a:1 lost)",
        "INFO sticky store memcached [a:1, b:1] up again: learned sessions are shared (connected to b:1)");
  }

  @Test
  void aStoreNotReachableAtStartIsAnnouncedDown() {
    StoreHealth h = new StoreHealth("memcached [a:1]", 1);
    h.update("not reachable (not connected yet)");
    h.announce();
    h.connected("a:1");
    assertThat(lines()).containsExactly(
        "WARN sticky store memcached [a:1] down: learning locally and serving on, sessions learned meanwhile are"
            + " written to it when it is back (not reachable (not connected yet))",
        "INFO sticky store memcached [a:1] up again: learned sessions are shared (connected to a:1)");
  }

  @Test
  void failuresInARowMakeAConnectedStoreDownAndOneSuccessBringsItBack() {
    StoreHealth h = new StoreHealth("memcached [a:1]", 1);
    h.connected("a:1");
    h.announce();
    h.failed("get: timeout");
    h.succeeded(); // not in a row
    for (int i = 0; i < StoreHealth.FAILURES_DOWN - 1; i++) {
      h.failed("get: timeout");
    }
    assertThat(h.up()).isTrue();
    h.failed("no answer within 1000 ms");
    assertThat(h.up()).isFalse();
    h.failed("again"); // still down: nothing more logged
    h.succeeded();
    assertThat(h.up()).isTrue();
    assertThat(lines()).hasSize(3).last().asString().startsWith("INFO sticky store memcached [a:1] up again:");
    assertThat(lines().get(1)).endsWith("(3 operations failed in a row (last: no answer within 1000 ms))");
  }
}
