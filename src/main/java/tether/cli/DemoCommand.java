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
import tether.config.ConfigLoader;
import tether.config.TetherConfig;

@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Tether on :8080 (admin :9090) in front of three embedded demo servers (:8101-8103) that share"
        + " a session store; stop and start them on :8100 (curl -X POST localhost:8100/web1/stop).")
final class DemoCommand implements Callable<Integer> {

  @Option(names = "--print-config", description = "Print the demo's Tether configuration and exit.")
  boolean printConfig;

  @Override
  public Integer call() throws Exception {
    String yaml = demoYaml();
    if (printConfig) {
      System.out.print(yaml);
      return 0;
    }
    TetherConfig config = new ConfigLoader().parse("demo.yaml", yaml);
    Map<String, Integer> ports = new LinkedHashMap<>();
    config.upstreams().get("app").servers().forEach(s -> ports.put(s.name(), s.port()));
    Vertx backendsVertx = Vertx.vertx();
    new DemoBackends(backendsVertx, ports).startAll(8100).await();
    System.out.println("demo servers " + ports + ", control on http://127.0.0.1:8100/");
    System.out.println("try: curl -i -c /tmp/jar -b /tmp/jar http://127.0.0.1:8080/");
    ConfigLoader loader = new ConfigLoader();
    return RunCommand.serve(() -> loader.parse("demo.yaml", yaml));
  }

  static String demoYaml() throws IOException {
    try (InputStream in = DemoCommand.class.getResourceAsStream("/tether/demo.yaml")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
