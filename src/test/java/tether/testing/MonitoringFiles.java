package tether.testing;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/** The shipped Prometheus rules and Grafana dashboard, and the PromQL in them. */
public final class MonitoringFiles {

  public static final Path RULES = Path.of("deploy/prometheus/tether-rules.yml");
  public static final Path RULE_TESTS = Path.of("deploy/prometheus/tether-rules.test.yml");
  public static final Path DASHBOARD = Path.of("deploy/grafana/tether.json");

  private MonitoringFiles() {}

  public static JsonObject dashboard() throws IOException {
    return new JsonObject(Files.readString(DASHBOARD));
  }

  /** The PromQL of every panel, annotation and variable of the dashboard (Grafana's variables left in). */
  public static List<String> dashboardQueries() throws IOException {
    JsonObject dash = dashboard();
    List<String> exprs = new ArrayList<>();
    for (Object p : dash.getJsonArray("panels")) {
      JsonArray targets = ((JsonObject) p).getJsonArray("targets", new JsonArray());
      targets.forEach(t -> exprs.add(((JsonObject) t).getString("expr")));
    }
    for (Object a : dash.getJsonObject("annotations").getJsonArray("list")) {
      if (((JsonObject) a).containsKey("expr")) {
        exprs.add(((JsonObject) a).getString("expr"));
      }
    }
    for (Object v : dash.getJsonObject("templating").getJsonArray("list")) {
      if (((JsonObject) v).getValue("query") instanceof JsonObject query) { // (a data source variable's is a type)
        // label_values(<selector>, <label>): the selector is PromQL
        exprs.add(query.getString("query").replaceAll("^label_values\\((.*), *\\w+\\)$", "$1"));
      }
    }
    return exprs;
  }

  /** The expression of every rule. */
  @SuppressWarnings("unchecked")
  public static List<String> ruleQueries() throws IOException {
    Map<String, Object> file = (Map<String, Object>) new Load(LoadSettings.builder().build())
        .loadFromString(Files.readString(RULES));
    List<String> exprs = new ArrayList<>();
    for (Object g : (List<Object>) file.get("groups")) {
      for (Object r : (List<Object>) ((Map<String, Object>) g).get("rules")) {
        exprs.add(String.valueOf(((Map<String, Object>) r).get("expr")));
      }
    }
    return exprs;
  }
}
