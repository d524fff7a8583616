package tether.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import tether.config.ConfigException;
import tether.config.ConfigLoader;
import tether.config.ListenConfig;
import tether.config.ServerConfig;
import tether.config.TetherConfig;
import tether.config.UpstreamConfig;

/**
 * Docker cannot run here: docker-compose.yml, the Dockerfiles and conf/compose.yaml are checked against each other
 * instead, so a renamed service, port, path or setting breaks the build rather than the demo.
 */
class ComposeFileTest {

  private static final Path COMPOSE = Path.of("docker-compose.yml");
  private static final Path TETHER_CONF = Path.of("conf/compose.yaml");
  private static final Path DEMO_APP = Path.of("demo-app");
  /** Top-level keys of the Compose specification (plus x-* extensions). */
  private static final Set<String> TOP_LEVEL = Set.of("version", "name", "include", "services", "networks", "volumes",
      "configs", "secrets");
  /** The service keys this file may use (a subset of the Compose specification): catches typos. */
  private static final Set<String> SERVICE_KEYS = Set.of("build", "image", "command", "entrypoint", "environment",
      "env_file", "volumes", "ports", "expose", "depends_on", "restart", "healthcheck", "hostname", "networks",
      "stop_grace_period", "stop_signal", "deploy", "labels", "logging", "init", "user", "working_dir", "ulimits",
      "pull_policy", "profiles");
  /** The second Tether instance of the ha profile (README, "Several instances"). */
  private static final String SECOND = "tether-2";

  private static Map<String, Object> compose;
  private static Map<String, Map<String, Object>> services;
  private static TetherConfig tether;

  @BeforeAll
  @SuppressWarnings("unchecked")
  static void load() throws Exception {
    Object root = new Load(LoadSettings.builder().setLabel(COMPOSE.toString()).build())
        .loadFromString(Files.readString(COMPOSE));
    assertThat(root).as("docker-compose.yml is a YAML mapping").isInstanceOf(Map.class);
    compose = (Map<String, Object>) root;
    services = new LinkedHashMap<>();
    ((Map<String, Object>) compose.get("services")).forEach((name, s) -> services.put(name, (Map<String, Object>) s));
    tether = new ConfigLoader(name -> "x").load(TETHER_CONF);
  }

  @Test
  void composeFileUsesOnlyComposeKeysAndHasTheSixServices() {
    assertThat(compose.keySet()).allSatisfy(k -> assertThat(TOP_LEVEL.contains(k) || k.startsWith("x-"))
        .as("top-level key %s", k).isTrue());
    assertThat(services.keySet()).containsExactlyInAnyOrder("tether", SECOND, "web1", "web2", "web3", "memcached");
    services.forEach((name, s) -> assertThat(s.containsKey("profiles")).as("%s: only %s is in a profile", name,
        SECOND).isEqualTo(name.equals(SECOND)));
    services.forEach((name, s) -> {
      assertThat(SERVICE_KEYS).as("keys of service %s", name).containsAll(s.keySet());
      assertThat(s.containsKey("image") || s.containsKey("build")).as("%s has an image or a build", name).isTrue();
    });
  }

  @Test
  void tetherIsBuiltFromTheRepositoryAndRunsTheMountedCompose() throws IOException {
    Map<String, Object> t = services.get("tether");
    Map<?, ?> build = (Map<?, ?>) t.get("build");
    assertThat(build.get("context")).isEqualTo(".");
    Path dockerfile = Path.of(String.valueOf(build.get("context"))).resolve(String.valueOf(build.get("dockerfile")));
    assertThat(dockerfile).isRegularFile();

    // the config mounted at the path the command reads, from conf/compose.yaml
    List<String> command = strings(t.get("command"));
    assertThat(command).containsSubsequence("run", "--config");
    String configPath = command.get(command.indexOf("--config") + 1);
    assertThat(strings(t.get("volumes"))).contains("./" + TETHER_CONF + ":" + configPath + ":ro");

    // Dockerfile: multi-stage Maven build, then a JRE running `java -jar tether.jar run --config /etc/tether/...`
    List<String> lines = Files.readAllLines(dockerfile).stream().map(String::strip).toList();
    List<String> froms = lines.stream().filter(l -> l.startsWith("FROM ")).toList();
    assertThat(froms).hasSize(2);
    assertThat(froms.get(0)).startsWith("FROM maven:3.9-eclipse-temurin-17 ");
    assertThat(froms.get(1)).isEqualTo("FROM eclipse-temurin:17-jre");
    assertThat(lines).contains("CMD [\"run\", \"--config\", \"" + configPath + "\"]",
        "COPY --from=build /src/target/tether.jar ./tether.jar");
    // the JVM flags are conf/jvm.options, copied next to the jar: a fixed heap, and out of memory means exit, for the
    // restart policy
    assertThat(lines).contains("COPY conf/jvm.options ./jvm.options",
        "ENTRYPOINT [\"java\", \"@/opt/tether/jvm.options\", \"-jar\", \"tether.jar\"]");
    List<String> jvmOptions = Files.readAllLines(Path.of("conf/jvm.options")).stream()
        .map(l -> l.replaceAll("#.*", "").strip()).filter(l -> !l.isEmpty()).toList();
    assertThat(jvmOptions).contains("-XX:+ExitOnOutOfMemoryError").anyMatch(o -> o.matches("-Xmx\\d+m"))
        .noneMatch(o -> o.contains("MaxRAMPercentage"));
    // the image's default config (used without compose) is the documented example, and it is valid
    assertThat(lines).contains("COPY conf/tether.yaml " + configPath);
    String exposed = lines.stream().filter(l -> l.startsWith("EXPOSE ")).findFirst().orElseThrow();
    for (int port : tetherPorts()) {
      assertThat(exposed.split("\\s+")).as("EXPOSE %d", port).contains(String.valueOf(port));
    }

    // .dockerignore keeps what the build copies
    List<String> ignored = Files.readAllLines(Path.of(".dockerignore")).stream().map(String::strip).toList();
    assertThat(ignored).doesNotContain("*", "pom.xml", "src", "src/main", "conf", "conf/tether.yaml");
    assertThat(ignored).contains("target", ".git");
  }

  @Test
  void composeYamlIsAValidTetherConfigurationThatNeedsTheAdminToken() {
    assertThat(tether.admin().enabled()).isTrue();
    assertThat(tether.admin().address()).isEqualTo("0.0.0.0");
    assertThat(tether.admin().token()).as("admin.token: ${TETHER_ADMIN_TOKEN}").isEqualTo("x");
    // without the variable the configuration is refused: the token is what compose must pass
    assertThatThrownBy(() -> new ConfigLoader(name -> null).load(TETHER_CONF)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("admin.address").hasMessageContaining("token");
    Map<String, Object> env = environment(services.get("tether"));
    assertThat(env.get("TETHER_ADMIN_TOKEN")).as("compose passes TETHER_ADMIN_TOKEN, with a default")
        .asString().matches("\\$\\{TETHER_ADMIN_TOKEN:-[^}]+}");
  }

  @Test
  void everyServerInComposeYamlIsAWebServiceOnPort80AndEveryWebServiceIsAServer() {
    assertThat(tether.upstreams()).hasSize(1);
    UpstreamConfig app = tether.upstreams().values().iterator().next();
    Set<String> webServices = new TreeSet<>();
    services.forEach((name, s) -> {
      if (String.valueOf(s.get("build")).equals("./demo-app")) {
        webServices.add(name);
      }
    });
    assertThat(webServices).containsExactly("web1", "web2", "web3");
    Set<String> servers = new TreeSet<>();
    for (ServerConfig server : app.servers()) {
      assertThat(services).as("server %s: host %s is a compose service", server.name(), server.host())
          .containsKey(server.host());
      assertThat(webServices).as("server %s runs the demo app", server.name()).contains(server.host());
      assertThat(server.port()).as("%s: Apache listens on 80 in php:8.2-apache", server.name()).isEqualTo(80);
      assertThat(server.name()).as("server name = service name").isEqualTo(server.host());
      assertThat(environment(services.get(server.host())).get("SERVER_NAME_TAG")).as("what index.php prints")
          .isEqualTo(server.name());
      servers.add(server.host());
    }
    assertThat(servers).as("every web service is behind Tether").isEqualTo(webServices);
    assertThat(dependsOn(services.get("tether")).keySet()).containsExactlyInAnyOrderElementsOf(webServices);

    // health checks hit a page the image serves
    assertThat(app.health()).isNotNull();
    assertThat(DEMO_APP.resolve("php" + app.health().path())).isRegularFile();
  }

  @Test
  void tethersPublishedPortsAreItsListenAndAdminPorts() {
    Map<Integer, String> published = published("tether", true);
    assertThat(published.keySet()).containsExactlyInAnyOrderElementsOf(tetherPorts());
    for (ListenConfig l : tether.listen()) {
      assertThat(l.address()).as("listen in a container: all interfaces").isEqualTo("0.0.0.0");
    }
    assertThat(published.get(tether.admin().port())).as("the admin API is published on the host's loopback only")
        .isEqualTo("127.0.0.1");
    services.forEach((name, s) -> {
      if (!name.equals("tether") && !name.equals(SECOND)) {
        assertThat(s).as("only Tether is published: %s", name).doesNotContainKey("ports");
      }
    });
  }

  /**
   * The ha profile: a second instance that is the first in all but its host ports (the same image, configuration,
   * sticky secret and admin token: what makes two instances one front door), its admin API on loopback too.
   */
  @Test
  void theHaProfileAddsASecondTetherThatDiffersFromTheFirstOnlyInItsHostPorts() {
    Map<String, Object> first = new LinkedHashMap<>(services.get("tether"));
    Map<String, Object> second = new LinkedHashMap<>(services.get(SECOND));
    assertThat(strings(second.remove("profiles"))).containsExactly("ha");
    Map<Integer, String> secondPorts = published(SECOND, false);
    assertThat(secondPorts.keySet()).as("the same container ports").containsExactlyInAnyOrderElementsOf(tetherPorts());
    assertThat(secondPorts.get(tether.admin().port())).as("admin on the host's loopback").isEqualTo("127.0.0.1");
    List<String> hostPorts = new ArrayList<>();
    for (String name : List.of("tether", SECOND)) {
      strings(services.get(name).get("ports")).forEach(p -> hostPorts.add(p.replaceFirst(":\\d+(/tcp)?$", "")));
    }
    assertThat(hostPorts).as("no host port twice").doesNotHaveDuplicates();
    first.remove("ports");
    second.remove("ports");
    assertThat(second).isEqualTo(first);
    assertThat(environment(second)).containsKey("TETHER_STICKY_SECRET");
    assertThat(tether.upstreams().get("app").sticky().secretGenerated()).as("a secret both instances share")
        .isFalse();
  }

  /** Container port -> host address ("" = all), from a service's [ip:]host:container entries. */
  private static Map<Integer, String> published(String service, boolean sameHostPort) {
    Map<Integer, String> published = new LinkedHashMap<>();
    Pattern port = Pattern.compile("(?:(\\d+\\.\\d+\\.\\d+\\.\\d+):)?(\\d+):(\\d+)(?:/tcp)?");
    for (String p : strings(services.get(service).get("ports"))) {
      Matcher m = port.matcher(p);
      assertThat(m.matches()).as("ports entry %s is [ip:]host:container", p).isTrue();
      if (sameHostPort) {
        assertThat(m.group(2)).as("%s: same port on the host", p).isEqualTo(m.group(3));
      }
      published.put(Integer.parseInt(m.group(3)), m.group(1) == null ? "" : m.group(1));
    }
    return published;
  }

  @Test
  void theWebImageIsPhp82ApacheWithMemcachedSessionsInTheMemcachedService() throws IOException {
    List<String> dockerfile = Files.readAllLines(DEMO_APP.resolve("Dockerfile")).stream().map(String::strip).toList();
    assertThat(dockerfile).contains("FROM php:8.2-apache");
    String all = String.join("\n", dockerfile);
    assertThat(all).contains("pecl install memcached", "docker-php-ext-enable memcached",
        "COPY php.ini /usr/local/etc/php/conf.d/", "COPY php/ /var/www/html/");
    for (String copied : List.of("php.ini", "apache-demo.conf", "php")) {
      assertThat(DEMO_APP.resolve(copied)).exists();
    }

    Map<String, String> ini = ini(DEMO_APP.resolve("php.ini"));
    assertThat(ini).containsEntry("session.save_handler", "memcached")
        .containsEntry("memcached.sess_locking", "Off");
    String[] savePath = ini.get("session.save_path").split(":");
    assertThat(services).as("session.save_path names a compose service").containsKey(savePath[0]);
    assertThat(savePath[1]).as("memcached's default port").isEqualTo("11211");
    assertThat(strings(services.get(savePath[0]).get("command"))).doesNotContain("-p", "--port");
    assertThat(String.valueOf(services.get(savePath[0]).get("image"))).startsWith("memcached:");
    for (String web : List.of("web1", "web2", "web3")) {
      assertThat(dependsOn(services.get(web))).containsKey(savePath[0]);
    }
  }

  @Test
  void everyServiceHasAHealthcheckARestartPolicyAndWaitsForItsDependenciesToBeHealthy() {
    services.forEach((name, s) -> {
      Map<?, ?> health = (Map<?, ?>) s.get("healthcheck");
      assertThat(health).as("%s: healthcheck", name).isNotNull();
      List<String> test = strings(health.get("test"));
      assertThat(test.get(0)).as("%s: healthcheck.test", name).isIn("CMD", "CMD-SHELL");
      for (String key : List.of("interval", "timeout", "start_period")) {
        assertThat(composeDuration(String.valueOf(health.get(key)))).as("%s: healthcheck.%s", name, key)
            .isPositive();
      }
      assertThat(composeDuration(String.valueOf(health.get("timeout"))))
          .isLessThan(composeDuration(String.valueOf(health.get("interval"))));
      assertThat(s.get("restart")).as("%s: restart", name).isIn("unless-stopped", "always", "on-failure");
      dependsOn(s).forEach((dependency, condition) -> {
        assertThat(services).containsKey(dependency);
        assertThat(condition).as("%s waits for %s to be healthy", name, dependency).isEqualTo("service_healthy");
      });
    });
    // the web servers' healthcheck asks the page Tether's own health checks ask
    String page = tether.upstreams().get("app").health().path();
    for (String web : List.of("web1", "web2", "web3")) {
      assertThat(String.join(" ", strings(((Map<?, ?>) services.get(web).get("healthcheck")).get("test"))))
          .contains("http://127.0.0.1" + page);
    }
  }

  @Test
  void tethersHealthchecksAskHealthzOnTheAdminPortOfTheConfigTheyRunWith() throws Exception {
    // compose: conf/compose.yaml's admin listener
    String composeTest = String.join(" ", strings(((Map<?, ?>) services.get("tether").get("healthcheck")).get("test")));
    assertThat(composeTest).contains("http://127.0.0.1:" + tether.admin().port() + "/healthz");
    assertThat(tether.admin().address()).isIn("0.0.0.0", "127.0.0.1");
    // the image alone: conf/tether.yaml's
    TetherConfig imageConfig = new ConfigLoader(name -> null).load(Path.of("conf/tether.yaml"));
    assertThat(imageConfig.admin().enabled()).isTrue();
    assertThat(imageConfig.admin().address()).isIn("0.0.0.0", "127.0.0.1");
    List<String> lines = Files.readAllLines(Path.of("Dockerfile")).stream().map(String::strip).toList();
    String healthcheck = String.join(" ", lines.subList(lines.indexOf(lines.stream()
        .filter(l -> l.startsWith("HEALTHCHECK ")).findFirst().orElseThrow()), lines.size()));
    assertThat(healthcheck).contains("CMD curl -fsS", "http://127.0.0.1:" + imageConfig.admin().port() + "/healthz");
  }

  @Test
  void dockerStopWaitsLongerThanTethersDrain() {
    Duration grace = composeDuration(String.valueOf(services.get("tether").get("stop_grace_period")));
    assertThat(grace).as("stop_grace_period (then SIGKILL) > shutdown_timeout (the drain)")
        .isGreaterThan(tether.shutdownTimeout());
  }

  @Test
  void dockerComposeAcceptsTheFileWithAndWithoutTheHaProfile() throws Exception {
    for (List<String> profile : List.of(List.<String>of(), List.of("--profile", "ha"))) {
      List<String> cmd = new ArrayList<>(List.of("docker-compose", "-f", COMPOSE.toString()));
      cmd.addAll(profile);
      cmd.addAll(List.of("config", "-q"));
      Process p;
      try {
        p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      } catch (IOException e) {
        Assumptions.abort("docker-compose is not installed (Debian: apt-get install docker-compose)");
        return;
      }
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as("%s: %s", cmd, new String(p.getInputStream().readAllBytes())).isZero();
    }
  }

  /** A Compose (Go) duration: {@code 30s}, {@code 1m30s}, {@code 1.5s}, {@code 500ms}. */
  static Duration composeDuration(String text) {
    Matcher m = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|us|h|m|s)").matcher(text);
    long nanos = 0;
    int end = 0;
    while (m.find() && m.start() == end) {
      double n = Double.parseDouble(m.group(1));
      nanos += (long) (n * switch (m.group(2)) {
        case "h" -> 3.6e12;
        case "m" -> 6e10;
        case "s" -> 1e9;
        case "ms" -> 1e6;
        default -> 1e3;
      });
      end = m.end();
    }
    assertThat(end).as("a duration: %s", text).isEqualTo(text.length()).isPositive();
    return Duration.ofNanos(nanos);
  }

  /** depends_on as dependency -> condition; the short list form means {@code service_started}. */
  private static Map<String, Object> dependsOn(Map<String, Object> service) {
    Object value = service.get("depends_on");
    Map<String, Object> out = new LinkedHashMap<>();
    if (value instanceof Map<?, ?> map) {
      map.forEach((k, v) -> out.put(String.valueOf(k), ((Map<?, ?>) v).get("condition")));
    } else {
      strings(value).forEach(k -> out.put(k, "service_started"));
    }
    return out;
  }

  private static List<Integer> tetherPorts() {
    List<Integer> ports = new ArrayList<>();
    tether.listen().forEach(l -> ports.add(l.port()));
    ports.add(tether.admin().port());
    return ports;
  }

  /** A compose list (or a single string) as strings. */
  private static List<String> strings(Object value) {
    if (value == null) {
      return List.of();
    }
    if (value instanceof List<?> list) {
      return list.stream().map(String::valueOf).toList();
    }
    return List.of(String.valueOf(value).split("\\s+"));
  }

  /** A service's environment, as a mapping or as a list of NAME=value. */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> environment(Map<String, Object> service) {
    Object env = service.get("environment");
    if (env instanceof Map<?, ?> map) {
      return (Map<String, Object>) map;
    }
    Map<String, Object> out = new LinkedHashMap<>();
    for (String pair : strings(env)) {
      int eq = pair.indexOf('=');
      out.put(eq < 0 ? pair : pair.substring(0, eq), eq < 0 ? null : pair.substring(eq + 1));
    }
    return out;
  }

  private static Map<String, String> ini(Path file) throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    for (String line : Files.readAllLines(file)) {
      String l = line.strip();
      if (l.isEmpty() || l.startsWith(";") || l.startsWith("[")) {
        continue;
      }
      int eq = l.indexOf('=');
      String value = l.substring(eq + 1).strip();
      if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
        value = value.substring(1, value.length() - 1);
      }
      out.put(l.substring(0, eq).strip(), value);
    }
    return out;
  }
}
