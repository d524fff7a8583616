package tether.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import tether.config.ConfigLoader;
import tether.config.TetherConfig;
import tether.upstream.balancing.HashRing;

/** Balancing policies through {@link Upstream#pick}: pure, no sockets. */
class BalancingTest {

  static Upstream upstream(String balance, String servers) throws Exception {
    TetherConfig c = new ConfigLoader(n -> null).parse("t.yaml",
        "upstreams:\n  app:\n    balance: " + balance + "\n    servers:\n" + servers);
    return new UpstreamRegistry().build(c).get("app");
  }

  static String server(String name, int weight) {
    return "      - {name: " + name + ", address: \"127.0.0.1:1\", weight: " + weight + "}\n";
  }

  static List<String> picks(Upstream u, int n) {
    return IntStream.range(0, n).mapToObj(i -> u.pick(0, new Attempts(3)).name()).toList();
  }

  @Test
  void smoothWeightedRoundRobinInterleaves() throws Exception {
    Upstream u = upstream("round_robin", server("a", 5) + server("b", 1) + server("c", 1));
    assertThat(picks(u, 14)).containsExactly("a", "a", "b", "a", "c", "a", "a", "a", "a", "b", "a", "c", "a", "a");
  }

  @Test
  void roundRobinSkipsTriedAndUnavailable() throws Exception {
    Upstream u = upstream("round_robin", server("a", 1) + server("b", 1) + server("c", 1));
    u.byName("b").state().healthy(false, System.nanoTime());
    Attempts tried = new Attempts(3);
    tried.add(u.byName("a"));
    for (int i = 0; i < 5; i++) {
      assertThat(u.pick(0, tried).name()).isEqualTo("c");
    }
    tried.add(u.byName("c"));
    assertThat(u.pick(0, tried)).isNull();
  }

  /** Issue 12: a down server's share goes to all the others, as nginx balances over the eligible servers only. */
  @Test
  void aServerThatCannotTakeUsersHasItsShareSpreadOverAllTheOthers() throws Exception {
    for (String why : List.of("down", "drain", "tried", "weighted")) {
      Upstream u = upstream("round_robin", server("a", 1) + server("b", why.equals("weighted") ? 2 : 1)
          + server("c", 1) + server("d", 1));
      Attempts none = new Attempts(3);
      Attempts triedA = new Attempts(3);
      triedA.add(u.byName("a"));
      switch (why) {
        case "drain" -> u.byName("a").admin(AdminState.DRAIN, 0, "test");
        case "tried" -> { }
        default -> u.byName("a").state().healthy(false, System.nanoTime());
      }
      int users = why.equals("weighted") ? 80 : 60;
      Map<String, Long> shares = IntStream.range(0, users)
          .mapToObj(i -> u.pick(0, why.equals("tried") ? triedA : none).name())
          .collect(Collectors.groupingBy(n -> n, Collectors.counting()));
      if (why.equals("weighted")) {
        assertThat(shares).as(why).containsOnlyKeys("b", "c", "d");
        assertThat(shares.get("b")).as(why + ": b has twice the weight").isBetween(38L, 42L);
        assertThat(shares.get("c")).as(why).isBetween(19L, 21L);
      } else {
        assertThat(shares).as(why).containsOnlyKeys("b", "c", "d").allSatisfy((name, n) ->
            assertThat(n).as(why + " " + name).isBetween(19L, 21L));
      }
    }
  }

  @Test
  void drainingAndDisabledServersGetNoNewUsers() throws Exception {
    Upstream u = upstream("round_robin", server("a", 1) + server("b", 1));
    u.byName("a").admin(AdminState.DRAIN, 0, "test");
    assertThat(picks(u, 6)).containsOnly("b");
    u.byName("b").admin(AdminState.DISABLED, 0, "test");
    assertThat(u.pick(0, new Attempts(3))).isNull();
  }

  @Test
  void backupsOnlyWhenNoPrimaryIsAvailable() throws Exception {
    Upstream u = upstream("round_robin", server("a", 1)
        + "      - {name: spare, address: \"127.0.0.1:1\", backup: true}\n");
    assertThat(picks(u, 4)).containsOnly("a");
    u.byName("a").state().healthy(false, System.nanoTime());
    assertThat(picks(u, 4)).containsOnly("spare");
    u.byName("a").state().healthy(true, System.nanoTime());
    assertThat(picks(u, 4)).containsOnly("a");
  }

  @Test
  void leastConnPrefersTheLeastLoadedRelativeToWeight() throws Exception {
    Upstream u = upstream("least_conn", server("a", 1) + server("b", 2));
    u.byName("a").state().requestStarted();
    u.byName("b").state().requestStarted();
    u.byName("b").state().requestStarted();
    u.byName("b").state().requestStarted();
    assertThat(picks(u, 10)).containsOnly("a"); // a: 1/1 < b: 3/2
    u.byName("a").state().requestStarted();
    assertThat(picks(u, 10)).containsOnly("b"); // b: 3/2 < a: 2/1
  }

  @Test
  void randomTwoSpreadsAndAvoidsTheLoaded() throws Exception {
    Upstream u = upstream("random_two", server("a", 1) + server("b", 1) + server("c", 1));
    Map<String, Long> counts = picks(u, 3000).stream()
        .collect(Collectors.groupingBy(s -> s, Collectors.counting()));
    assertThat(counts.values()).allSatisfy(n -> assertThat(n).isBetween(700L, 1300L));
    for (int i = 0; i < 50; i++) {
      u.byName("c").state().requestStarted();
    }
    // c is picked only when drawn twice (both draws c): about 1 in 9
    long c = picks(u, 900).stream().filter("c"::equals).count();
    assertThat(c).isLessThan(200);
  }

  @Test
  void hashRingIsStableAndMovesOnlyTheFailedServersKeys() throws Exception {
    Upstream u = upstream("ip_hash", server("a", 1) + server("b", 1) + server("c", 1));
    Map<Integer, String> before = new HashMap<>();
    for (int k = 0; k < 3000; k++) {
      before.put(k, u.pick(HashRing.hash("10.0.0." + k), new Attempts(3)).name());
    }
    Map<String, Long> spread = before.values().stream().collect(Collectors.groupingBy(s -> s, Collectors.counting()));
    assertThat(spread.values()).allSatisfy(n -> assertThat(n).isBetween(700L, 1300L));
    Upstream again = upstream("ip_hash", server("a", 1) + server("b", 1) + server("c", 1));
    u.byName("b").state().healthy(false, System.nanoTime());
    for (int k = 0; k < 3000; k++) {
      String now = u.pick(HashRing.hash("10.0.0." + k), new Attempts(3)).name();
      String fresh = again.pick(HashRing.hash("10.0.0." + k), new Attempts(3)).name();
      assertThat(fresh).isEqualTo(before.get(k)); // same config, another instance: same mapping
      if (!before.get(k).equals("b")) {
        assertThat(now).isEqualTo(before.get(k));
      } else {
        assertThat(now).isNotEqualTo("b");
      }
    }
  }
}
