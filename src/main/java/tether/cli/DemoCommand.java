package tether.cli;

import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tether.config.ConfigException;
import tether.config.ConfigLoader;
import tether.config.ListenException;
import tether.config.TetherConfig;

@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Tether on :8080 (admin :9901) in front of three embedded demo servers (:8101-8103) that share"
        + " a session store; stop and start them on :8100 (curl -X POST localhost:8100/web1/stop).")
final class DemoCommand implements Callable<Integer> {

  private static final String LISTEN = "listen: [{address: 127.0.0.1, port: 8080}]";
  private static final String ADMIN = "admin: {address: 127.0.0.1, port: 9901}";
  private static final int CONTROL_PORT = 8100;

  @Option(names = "--print-config", description = "Print the demo's Tether configuration and exit.")
  boolean printConfig;

  @Option(names = "--port", paramLabel = "PORT", description = "Tether's port (default: ${DEFAULT-VALUE}).")
  int port = 8080;

  @Option(names = "--admin-port", paramLabel = "PORT",
      description = "The admin listener's port: status page, /status, /metrics (default: ${DEFAULT-VALUE}).")
  int adminPort = 9901;

  @Override
  public Integer call() throws Exception {
    String yaml = demoYaml(port, adminPort);
    if (printConfig) {
      System.out.print(yaml);
      return 0;
    }
    TetherConfig config;
    try {
      config = new ConfigLoader().parse("demo.yaml", yaml);
    } catch (ConfigException e) {
      e.errors().forEach(System.err::println);
      return 1;
    }
    Map<String, Integer> ports = new LinkedHashMap<>();
    config.upstreams().get("app").servers().forEach(s -> ports.put(s.name(), s.port()));
    Vertx backendsVertx = Vertx.vertx();
    try {
      new DemoBackends(backendsVertx, ports).startAll(CONTROL_PORT).await();
    } catch (ListenException e) {
      System.err.println("tether: " + e.getMessage());
      backendsVertx.close();
      return 1;
    }
    System.out.println("demo servers " + ports + ", control on http://127.0.0.1:" + CONTROL_PORT + "/");
    ConfigLoader loader = new ConfigLoader();
    return RunCommand.serve(() -> loader.parse("demo.yaml", yaml), tether -> {
      System.out.println("try: curl -i -c /tmp/jar -b /tmp/jar http://127.0.0.1:" + tether.ports().get(0) + "/");
      System.out.println("status page: http://127.0.0.1:" + tether.adminPort() + "/");
    });
  }

  /** The demo's configuration with these ports (0: any free one). */
  static String demoYaml(int port, int adminPort) throws IOException {
    try (InputStream in = DemoCommand.class.getResourceAsStream("/tether/demo.yaml")) {
      String yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      if (!yaml.contains(LISTEN) || !yaml.contains(ADMIN)) {
        throw new IllegalStateException("demo.yaml: expected the lines \"" + LISTEN + "\" and \"" + ADMIN + "\"");
      }
      return yaml.replace(LISTEN, LISTEN.replace("8080", String.valueOf(port)))
          .replace(ADMIN, ADMIN.replace("9901", String.valueOf(adminPort)));
    }
  }
}
