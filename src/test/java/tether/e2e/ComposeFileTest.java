package tether.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
      "pull_policy");

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
  void composeFileUsesOnlyComposeKeysAndHasTheFiveServices() {
    assertThat(compose.keySet()).allSatisfy(k -> assertThat(TOP_LEVEL.contains(k) || k.startsWith("x-"))
        .as("top-level key %s", k).isTrue());
    assertThat(services.keySet()).containsExactlyInAnyOrder("tether", "web1", "web2", "web3", "memcached");
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
    assertThat(lines).contains("ENTRYPOINT [\"java\", \"-jar\", \"tether.jar\"]",
        "CMD [\"run\", \"--config\", \"" + configPath + "\"]", "COPY --from=build /src/target/tether.jar ./tether.jar");
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
    assertThat(strings(services.get("tether").get("depends_on"))).containsExactlyInAnyOrderElementsOf(webServices);

    // health checks hit a page the image serves
    assertThat(app.health()).isNotNull();
    assertThat(DEMO_APP.resolve("php" + app.health().path())).isRegularFile();
  }

  @Test
  void tethersPublishedPortsAreItsListenAndAdminPorts() {
    Map<Integer, String> published = new LinkedHashMap<>(); // container port -> host address ("" = all)
    Pattern port = Pattern.compile("(?:(\\d+\\.\\d+\\.\\d+\\.\\d+):)?(\\d+):(\\d+)(?:/tcp)?");
    for (String p : strings(services.get("tether").get("ports"))) {
      Matcher m = port.matcher(p);
      assertThat(m.matches()).as("ports entry %s is [ip:]host:container", p).isTrue();
      assertThat(m.group(2)).as("%s: same port on the host", p).isEqualTo(m.group(3));
      published.put(Integer.parseInt(m.group(3)), m.group(1) == null ? "" : m.group(1));
    }
    assertThat(published.keySet()).containsExactlyInAnyOrderElementsOf(tetherPorts());
    for (ListenConfig l : tether.listen()) {
      assertThat(l.address()).as("listen in a container: all interfaces").isEqualTo("0.0.0.0");
    }
    assertThat(published.get(tether.admin().port())).as("the admin API is published on the host's loopback only")
        .isEqualTo("127.0.0.1");
    services.forEach((name, s) -> {
      if (!name.equals("tether")) {
        assertThat(s).as("only Tether is published: %s", name).doesNotContainKey("ports");
      }
    });
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
      assertThat(strings(services.get(web).get("depends_on"))).contains(savePath[0]);
    }
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
