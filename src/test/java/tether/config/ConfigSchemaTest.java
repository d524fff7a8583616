package tether.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.schema.CoreSchema;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * conf/tether.schema.json, the JSON Schema editors use to complete and check tether.yaml: it accepts every config
 * the project ships, rejects broken ones, and holds exactly the keys the loader reads (checked against a config that
 * uses every key, in both directions, and per sticky mode against {@link StickyConfig.Mode#keys()}).
 */
class ConfigSchemaTest {

  private static final Path SCHEMA = Path.of("conf/tether.schema.json");
  private static final Path FULL = Path.of("src/test/resources/tether/config/full.yaml");
  private static final Map<String, String> ENV = new java.util.HashMap<>(Map.of("TETHER_ADMIN_TOKEN", "t",
      "ADMIN_TOKEN", "t", "KEY_NEW", "k"));
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private static JsonNode schemaJson;
  private static Schema schema;

  /** full.yaml's TLS listener reads a real certificate, made here (a test-only one, never committed). */
  @BeforeAll
  static void certificate(@org.junit.jupiter.api.io.TempDir Path dir) {
    tether.testing.TestCertificates.Pair pair = tether.testing.TestCertificates.in(dir).leaf("localhost", "localhost");
    ENV.put("TLS_CERT", pair.cert().toString());
    ENV.put("TLS_KEY", pair.key().toString());
  }

  @BeforeAll
  static void load() throws IOException {
    SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_7);
    schemaJson = JSON.readTree(Files.readString(SCHEMA));
    schema = registry.getSchema(schemaJson);
    List<Error> metaErrors = registry.getSchema(SchemaLocation.of("http://json-schema.org/draft-07/schema#"))
        .validate(schemaJson);
    assertThat(metaErrors).as("the schema is a valid draft-07 schema").isEmpty();
  }

  /** YAML as an editor's language server sees it: core schema types, merge keys resolved. */
  private static JsonNode yaml(String text) {
    Object tree = new Load(LoadSettings.builder().setSchema(new CoreSchema()).build()).loadFromString(text);
    return JSON.valueToTree(tree);
  }

  private static List<String> schemaErrors(String yamlText) {
    return schema.validate(yaml(yamlText)).stream()
        .map(e -> e.getInstanceLocation().toString().replaceFirst("^$", "/") + " " + e.getKeyword())
        .distinct().toList();
  }

  @ParameterizedTest
  @ValueSource(strings = {"conf/tether.yaml", "conf/compose.yaml", "src/main/resources/tether/demo.yaml",
      "src/test/resources/tether/config/full.yaml"})
  void acceptsEveryShippedConfig(String file) throws Exception {
    String text = Files.readString(Path.of(file));
    new ConfigLoader(ENV::get).parse(file, text);
    assertThat(schema.validate(yaml(text))).as(file).isEmpty();
  }

  private static Arguments row(String name, String yamlText, String... errors) {
    return Arguments.of(name, yamlText, List.of(errors));
  }

  static Stream<Arguments> broken() {
    String up = "upstreams: {app: {servers: [{name: a, address: \"127.0.0.1:1\"}]}}\n";
    return Stream.of(
        row("no upstreams", "workers: 2\n", "/ required"),
        row("unknown key", up + "timeouts: {conect: 1s}\n", "/timeouts additionalProperties"),
        row("a duration without unit", up + "timeouts: {connect: 2}\n", "/timeouts/connect type"),
        row("a port out of range", "listen: [{port: 80800}]\n" + up, "/listen/0/port maximum",
            "/listen/0/port type"),
        row("listen: []", "listen: []\n" + up, "/listen minItems"),
        row("routes: []", up + "routes: []\n", "/routes minItems"),
        row("a balance that is not one", "upstreams: {app: {balance: fastest, servers: [{name: a, address: \"a:1\"}]}}",
            "/upstreams/app/balance enum", "/upstreams/app/balance pattern"),
        row("a server without address", "upstreams: {app: {servers: [{name: a}]}}",
            "/upstreams/app/servers/0 required"),
        row("an address without port", "upstreams: {app: {servers: [{name: a, address: web1}]}}",
            "/upstreams/app/servers/0/address pattern"),
        row("a key of another sticky mode",
            "upstreams: {app: {servers: [{name: a, address: \"a:1\"}], sticky: {mode: learn, separator: \"~\"}}}",
            "/upstreams/app/sticky propertyNames"),
        row("a key of another mode, with the default mode cookie",
            "upstreams: {app: {servers: [{name: a, address: \"a:1\"}], sticky: {ttl: 1m}}}",
            "/upstreams/app/sticky propertyNames"),
        row("X- is not x-", up + "X-note: 1\n", "/ additionalProperties"),
        row("an error page for a status Tether never answers itself", up + "error_pages: {404: x.html}\n",
            "/error_pages additionalProperties"),
        row("a redirect status that is not one", up + "routes: [{redirect: {status: 200, to: \"https://x\"}}]\n",
            "/routes/0/redirect/status enum", "/routes/0/redirect/status type"),
        row("a route with both upstream and redirect", up + "routes: [{upstream: app, redirect: {to: /x}}]\n",
            "/routes/0 oneOf"),
        row("a header key that is an extension field", up + "routes: [{upstream: app, headers: {request: {set:"
            + " {x-real-ip: $client_ip}}}}]\n", "/routes/0/headers/request/set propertyNames"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("broken")
  void rejectsBrokenConfigs(String name, String yamlText, List<String> expected) {
    assertThat(schemaErrors(yamlText)).containsExactlyInAnyOrderElementsOf(expected);
  }

  @Test
  void acceptsVariablesExtensionsAndMergeKeys() {
    assertThat(schemaErrors("""
        x-defaults: &d {weight: 2}
        listen: [{address: "${ADDR:-0.0.0.0}", port: "${PORT}"}]
        upstreams:
          x-note: ignored
          app:
            servers: [{<<: *d, name: a, address: "${WEB1}"}]
            max_attempts: ${ATTEMPTS:-3}
            debug_header: ${DEBUG}
            sticky: {mode: hash, key: "${KEY}", x-why: because}
        shutdown_timeout: 1m30s
        timeouts: {connect: 1.5s}
        """)).isEmpty();
  }

  /** Every mapping the loader reads has exactly the schema's properties there, and every schema object is reached. */
  @Test
  void theSchemaHasExactlyTheKeysTheLoaderReads() throws Exception {
    Map<String, Set<String>> asked = new ConfigLoader(ENV::get).keysAsked(FULL.toString(), Files.readString(FULL));
    Map<JsonNode, Set<String>> loaderKeys = new IdentityHashMap<>();
    Map<JsonNode, String> where = new IdentityHashMap<>();
    asked.forEach((path, keys) -> {
      JsonNode node = at(path);
      loaderKeys.computeIfAbsent(node, n -> new TreeSet<>()).addAll(keys);
      where.putIfAbsent(node, path.isEmpty() ? "(top)" : path);
    });
    Map<String, Set<String>> schemaSide = new TreeMap<>();
    Map<String, Set<String>> loaderSide = new TreeMap<>();
    Set<JsonNode> objects = Collections.newSetFromMap(new IdentityHashMap<>());
    collectObjects(schemaJson, objects);
    for (JsonNode object : objects) {
      String name = where.getOrDefault(object, "(not read by the loader) " + object.propertyNames());
      schemaSide.put(name, new TreeSet<>(object.get("properties").propertyNames()));
      loaderSide.put(name, loaderKeys.getOrDefault(object, Set.of()));
    }
    SoftAssertions soft = new SoftAssertions();
    schemaSide.forEach((name, keys) -> soft.assertThat(loaderSide.get(name))
        .as("%s: keys the loader reads (expected: the schema's properties there)", name).isEqualTo(keys));
    soft.assertThat(loaderKeys.keySet()).as("every mapping the loader reads is a schema object")
        .allSatisfy(n -> assertThat(objects).contains(n));
    soft.assertAll();
  }

  @Test
  void eachStickyModeAllowsExactlyItsKeys() {
    JsonNode sticky = schemaJson.get("definitions").get("sticky");
    Map<String, Set<String>> schemaModes = new TreeMap<>();
    for (JsonNode rule : sticky.get("allOf")) {
      Set<String> keys = new TreeSet<>();
      rule.get("then").get("propertyNames").get("anyOf").get(0).get("enum").forEach(k -> keys.add(k.asString()));
      schemaModes.put(rule.get("if").get("properties").get("mode").get("const").asString(), keys);
    }
    Map<String, Set<String>> loaderModes = new TreeMap<>();
    for (StickyConfig.Mode mode : StickyConfig.Mode.values()) {
      Set<String> keys = new TreeSet<>(mode.keys());
      keys.add("mode");
      loaderModes.put(mode.yamlName(), keys);
    }
    assertThat(schemaModes).isEqualTo(loaderModes);
  }

  /** The schema object a loader key path reads: {@code upstreams.app.servers[]} -> the server definition. */
  private static JsonNode at(String path) {
    JsonNode node = resolve(schemaJson);
    for (String segment : path.isEmpty() ? new String[0] : path.split("\\.")) {
      boolean item = segment.endsWith("[]");
      String key = item ? segment.substring(0, segment.length() - 2) : segment;
      JsonNode properties = node.get("properties");
      JsonNode named = properties != null && properties.has(key) ? properties.get(key)
          : node.get("additionalProperties");
      assertThat(named != null && named.isObject()).as("the loader reads %s: the schema has no %s there", path, key)
          .isTrue();
      node = resolve(named);
      if (item) {
        node = resolve(node.get("items"));
      }
    }
    return node;
  }

  private static JsonNode resolve(JsonNode node) {
    assertThat(node).as("schema node").isNotNull();
    if (node.has("$ref")) {
      String ref = node.get("$ref").asString();
      return resolve(schemaJson.at(ref.substring(1)));
    }
    return node;
  }

  /** Every schema object that lists properties (the root, definitions and inline objects). */
  private static void collectObjects(JsonNode node, Set<JsonNode> out) {
    if (node.isObject() && node.has("properties") && node.get("properties").isObject()
        && "object".equals(node.path("type").asString(""))) {
      out.add(node);
    }
    List<JsonNode> children = new ArrayList<>();
    node.forEach(children::add);
    children.forEach(c -> collectObjects(c, out));
  }
}
