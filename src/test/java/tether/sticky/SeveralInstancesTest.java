package tether.sticky;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.http.Cookie;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tether.testing.Backends;
import tether.testing.CookieClient;
import tether.testing.TetherHarness;

/**
 * Two and three Tether instances as one front door, in the stateless modes: every instance has the same
 * configuration (the same secrets, the same servers), and a client sends each request to the next instance in
 * turn, as DNS round robin or a layer-4 balancer without affinity would.
 */
class SeveralInstancesTest {

  @TempDir
  Path dir;

  private final Backends backends = new Backends();
  private final List<TetherHarness> tethers = new ArrayList<>();

  @AfterEach
  void close() {
    tethers.forEach(TetherHarness::close);
    backends.close();
  }

  /** A PHP-like server: issues a session cookie to a request that has none, answers its own name. */
  private void php(String... names) {
    for (String name : names) {
      backends.start(name, req -> {
        if (req.getCookie("PHPSESSID") == null) {
          req.response().addCookie(Cookie.cookie("PHPSESSID", UUID.randomUUID().toString()).setPath("/"));
        }
        req.response().end(name);
      });
    }
  }

  private String config(String sticky) {
    StringBuilder y = new StringBuilder("""
        listen: [{address: 127.0.0.1, port: 0}]
        admin: {address: 127.0.0.1, port: 0}
        workers: 1
        access_log: {enabled: false}
        upstreams:
          app:
            debug_header: true
            servers:
        """);
    for (String name : List.of("web1", "web2", "web3")) {
      y.append("      - {name: ").append(name).append(", address: \"").append(backends.get(name).address())
          .append("\"}\n");
    }
    return y.append("    sticky: ").append(sticky).append('\n').toString();
  }

  private List<TetherHarness> start(int n, String sticky) {
    for (int i = 0; i < n; i++) {
      tethers.add(TetherHarness.start(config(sticky)));
    }
    return tethers;
  }

  /** {@code n} requests; returns the servers that answered, in order. */
  private static List<String> click(CookieClient user, int n) {
    List<String> servers = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      HttpResponse<String> r = user.get("/");
      assertThat(r.statusCode()).as("request %d through instance %d", i, user.lastInstance()).isEqualTo(200);
      servers.add(r.body());
    }
    return servers;
  }

  @ParameterizedTest(name = "{0} instances")
  @ValueSource(ints = {2, 3})
  void cookieModeKeepsAUserOnOneServerWhicheverInstanceItReachesAndMovesItOnceWhenThatServerDies(int n) {
    php("web1", "web2", "web3");
    start(n, "{mode: cookie, secret: [shared-key]}");
    List<CookieClient> users = new ArrayList<>();
    for (int u = 0; u < 6; u++) {
      users.add(new CookieClient(tethers));
    }
    List<String> homes = new ArrayList<>();
    for (CookieClient user : users) {
      List<String> served = click(user, 3 * n);
      assertThat(served).as("one server through %d instances", n).containsOnly(served.get(0));
      homes.add(served.get(0));
    }
    assertThat(homes).as("users spread over the servers").hasSizeGreaterThan(1);
    String victim = homes.get(0);
    backends.stop(victim);
    for (int u = 0; u < users.size(); u++) {
      CookieClient user = users.get(u);
      List<String> after = click(user, 3 * n);
      if (homes.get(u).equals(victim)) {
        assertThat(after.get(0)).isNotEqualTo(victim);
        assertThat(after).as("moved once, then one server on every instance").containsOnly(after.get(0));
        homes.set(u, after.get(0));
      } else {
        assertThat(after).as("a user of another server does not move").containsOnly(homes.get(u));
      }
    }
    backends.restart(victim);
    for (int u = 0; u < users.size(); u++) {
      assertThat(click(users.get(u), 3 * n)).as("%s is back: nobody goes back to it", victim)
          .containsOnly(homes.get(u));
    }
  }

  /**
   * Hash mode without a store: the ring is the same on every instance, but {@code learn_window} is each process's
   * own memory, so with several instances it is set to 0. A user then sticks from its second request on (its
   * first was balanced, before it had a session id), and moves once, to the same server on every instance, when
   * its server dies. When the server is back, its users return to it, each instance once it sees the server
   * usable again: the ring has no memory (a store gives it one: {@code SharedStoreTest}).
   */
  @ParameterizedTest(name = "{0} instances")
  @ValueSource(ints = {2, 3})
  void hashModeWithoutAStoreIsTheSameRingOnEveryInstance(int n) {
    php("web1", "web2", "web3");
    start(n, "{mode: hash, key: \"cookie:PHPSESSID\", learn_window: 0s}");
    List<CookieClient> users = new ArrayList<>();
    List<String> homes = new ArrayList<>();
    for (int u = 0; u < 12; u++) {
      CookieClient user = new CookieClient(tethers);
      click(user, 1);
      List<String> served = click(user, 3 * n);
      assertThat(served).as("from the second request on, one server through %d instances", n)
          .containsOnly(served.get(0));
      users.add(user);
      homes.add(served.get(0));
    }
    assertThat(homes).as("users spread over the servers").hasSizeGreaterThan(1);
    String victim = homes.get(0);
    backends.stop(victim);
    for (int u = 0; u < users.size(); u++) {
      List<String> after = click(users.get(u), 3 * n);
      if (homes.get(u).equals(victim)) {
        assertThat(after).as("moved once, to the same server on every instance").containsOnly(after.get(0))
            .doesNotContain(victim);
      } else {
        assertThat(after).as("only the dead server's users move").containsOnly(homes.get(u));
      }
    }
  }

  /**
   * Rotating the cookie key one instance at a time, in two rounds, while users keep clicking through every
   * instance: first each instance learns to accept the new key ({@code [old, new]}: signs with old), then each
   * signs with it ({@code [new, old]}); at every step every instance accepts every cookie in circulation, so no
   * user is ever re-pinned. (Signing with the new key before every instance accepts it would move users.)
   */
  @Test
  void keyRotationOneInstanceAtATimeLosesNoUser() throws IOException {
    php("web1", "web2", "web3");
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Path file = dir.resolve("tether" + i + ".yaml");
      Files.writeString(file, config("{mode: cookie, secret: [old-key]}"));
      files.add(file);
      tethers.add(TetherHarness.startFromFile(file));
    }
    List<CookieClient> users = new ArrayList<>();
    List<String> homes = new ArrayList<>();
    for (int u = 0; u < 9; u++) {
      CookieClient user = new CookieClient(tethers);
      users.add(user);
      homes.add(click(user, 1).get(0));
    }
    List<String> steps = new ArrayList<>();
    for (String secrets : List.of("[old-key, new-key]", "[new-key, old-key]")) {
      for (int i = 0; i < 3; i++) {
        Files.writeString(files.get(i), config("{mode: cookie, secret: " + secrets + "}"));
        assertThat(tethers.get(i).admin("POST", "/reload").statusCode()).isEqualTo(200);
        steps.add("instance " + i + ": " + secrets);
        for (int u = 0; u < users.size(); u++) {
          CookieClient user = users.get(u);
          for (int k = 0; k < 3; k++) {
            HttpResponse<String> r = user.get("/");
            assertThat(r.body()).as("user %d after %s", u, steps).isEqualTo(homes.get(u));
            assertThat(user.debug()).as("user %d through instance %d after %s", u, user.lastInstance(), steps)
                .endsWith("sticky=hit");
          }
        }
      }
    }
    // the old key can now go, one instance at a time: every cookie in circulation is signed with the new one
    for (CookieClient user : users) {
      user.get("/");
    }
    for (int i = 0; i < 3; i++) {
      Files.writeString(files.get(i), config("{mode: cookie, secret: [new-key]}"));
      assertThat(tethers.get(i).admin("POST", "/reload").statusCode()).isEqualTo(200);
    }
    for (int u = 0; u < users.size(); u++) {
      assertThat(click(users.get(u), 3)).containsOnly(homes.get(u));
    }
  }
}
