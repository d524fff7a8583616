package tether.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import tether.config.ConfigLoader;
import tether.config.StickyConfig;
import tether.config.TetherConfig;
import tether.config.UpstreamConfig;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * deploy/kubernetes: every object valid against the Kubernetes JSON Schema of its kind (strict: an unknown or
 * misspelt field fails, as with kubeconform), and the objects agree with each other and with Tether's own
 * configuration: the ConfigMap key mounted where the container reads it, every variable it uses set from a Secret
 * key that exists, probes and Service on ports the container and tether.yaml open, selectors that select.
 */
class KubernetesManifestsTest {

  private static final Path DIR = Path.of("deploy/kubernetes");
  private static final Path SCHEMAS = Path.of("src/test/resources/kubernetes");
  private static final Map<String, String> SCHEMA_OF = Map.of("ConfigMap", "configmap-v1", "Secret", "secret-v1",
      "Deployment", "deployment-apps-v1", "Service", "service-v1", "PodDisruptionBudget",
      "poddisruptionbudget-policy-v1");
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private static final Map<String, Map<String, Object>> byKind = new LinkedHashMap<>();
  private static final Map<String, Path> fileOf = new HashMap<>();
  private static SchemaRegistry registry;

  @BeforeAll
  @SuppressWarnings("unchecked")
  static void load() throws IOException {
    registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_4);
    try (Stream<Path> files = Files.list(DIR)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        for (Object doc : new Load(LoadSettings.builder().setLabel(f.toString()).build())
            .loadAllFromString(Files.readString(f))) {
          Map<String, Object> object = (Map<String, Object>) doc;
          String kind = String.valueOf(object.get("kind"));
          assertThat(byKind).as("one %s", kind).doesNotContainKey(kind);
          byKind.put(kind, object);
          fileOf.put(kind, f);
        }
      }
    }
  }

  private static List<Error> validate(String kind, Object object) throws IOException {
    JsonNode json = JSON.readTree(Files.readString(SCHEMAS.resolve(SCHEMA_OF.get(kind) + ".json")));
    // "$schema": "http://json-schema.org/schema#" names no draft (none is on the classpath): draft 4 is what
    // openapi2jsonschema writes for
    ((tools.jackson.databind.node.ObjectNode) json).remove("$schema");
    Schema schema = registry.getSchema(json);
    return schema.validate(JSON.valueToTree(object));
  }

  @Test
  void everyObjectIsValidAgainstItsKindsSchema() throws IOException {
    assertThat(byKind.keySet()).containsExactlyInAnyOrder("Kustomization", "ConfigMap", "Secret", "Deployment",
        "Service", "PodDisruptionBudget");
    for (var e : byKind.entrySet()) {
      if (!e.getKey().equals("Kustomization")) {
        assertThat(validate(e.getKey(), e.getValue())).as("%s in %s", e.getKey(), fileOf.get(e.getKey()))
            .isEmpty();
      }
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void theSchemasAreStrictEnoughToCatchATypo() throws IOException {
    Map<String, Object> deployment = JSON.convertValue(byKind.get("Deployment"), Map.class);
    Map<String, Object> container = container(deployment);
    container.put("readinessProb", container.remove("readinessProbe"));
    assertThat(validate("Deployment", deployment)).extracting(Error::getKeyword).contains("additionalProperties");
    ((Map<String, Object>) deployment.get("spec")).put("replicas", "two");
    assertThat(validate("Deployment", deployment)).extracting(Error::getKeyword).contains("type");
  }

  @Test
  @SuppressWarnings("unchecked")
  void theKustomizationListsEveryFile() throws IOException {
    List<String> resources = (List<String>) byKind.get("Kustomization").get("resources");
    List<String> files = new ArrayList<>();
    try (Stream<Path> list = Files.list(DIR)) {
      list.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml"))
          .forEach(files::add);
    }
    assertThat(resources).containsExactlyInAnyOrderElementsOf(files);
  }

  @Test
  @SuppressWarnings("unchecked")
  void theDeploymentRunsTwoReplicasOfTheConfigMapsTetherYamlWithTheSecretsKeys() throws Exception {
    Map<String, Object> deployment = byKind.get("Deployment");
    Map<String, Object> spec = map(deployment, "spec");
    assertThat(spec.get("replicas")).isEqualTo(2);
    Map<String, Object> pod = map(map(spec, "template"), "spec");
    Map<String, Object> container = container(deployment);

    // the config file the command reads is the ConfigMap's key, mounted there
    List<String> args = (List<String>) container.get("args");
    String configPath = args.get(args.indexOf("--config") + 1);
    Map<String, Object> configMap = byKind.get("ConfigMap");
    Map<String, Object> configVolume = volumeMountedAt(pod, container, Path.of(configPath).getParent().toString());
    Map<String, Object> source = map(configVolume, "configMap");
    assertThat(source.get("name")).isEqualTo(map(configMap, "metadata").get("name"));
    Map<String, Object> item = ((List<Map<String, Object>>) source.get("items")).get(0);
    assertThat(item.get("path")).isEqualTo(Path.of(configPath).getFileName().toString());
    String yaml = (String) map(configMap, "data").get(item.get("key"));
    assertThat(yaml).as("ConfigMap key %s", item.get("key")).isNotNull();

    // every variable tether.yaml uses comes from a Secret key that exists
    Map<String, Object> secret = byKind.get("Secret");
    Map<String, String> secretData = (Map<String, String>) secret.get("stringData");
    Map<String, String> env = new HashMap<>();
    for (Map<String, Object> e : (List<Map<String, Object>>) container.get("env")) {
      Map<String, Object> ref = map(map(e, "valueFrom"), "secretKeyRef");
      assertThat(ref.get("name")).isEqualTo(map(secret, "metadata").get("name"));
      assertThat(secretData).as("Secret key of %s", e.get("name")).containsKey((String) ref.get("key"));
      env.put((String) e.get("name"), secretData.get((String) ref.get("key")));
    }
    List<String> asked = new ArrayList<>();
    TetherConfig config = new ConfigLoader(name -> {
      asked.add(name);
      return env.get(name);
    }).parse("configmap.yaml", yaml);
    assertThat(env.keySet()).containsAll(asked);
    UpstreamConfig app = config.upstreams().get("app");
    StickyConfig.Cookie sticky = (StickyConfig.Cookie) app.sticky();
    assertThat(sticky.secrets()).as("the replicas sign with the Secret's key, not a generated one")
        .containsExactly(secretData.get("sticky-key"));
    assertThat(config.admin().token()).isEqualTo(secretData.get("admin-token"));

    // ports: the container opens tether.yaml's listener and admin ports; probes ask /healthz on the admin one
    Map<String, Integer> ports = new HashMap<>();
    for (Map<String, Object> p : (List<Map<String, Object>>) container.get("ports")) {
      ports.put((String) p.get("name"), (Integer) p.get("containerPort"));
    }
    assertThat(ports).containsEntry("http", config.listen().get(0).port())
        .containsEntry("admin", config.admin().port());
    assertThat(config.listen().get(0).address()).isEqualTo("0.0.0.0");
    assertThat(config.admin().address()).as("probes reach the pod IP").isEqualTo("0.0.0.0");
    for (String probe : List.of("readinessProbe", "livenessProbe")) {
      Map<String, Object> get = map(map(container, probe), "httpGet");
      assertThat(get.get("path")).as(probe).isEqualTo("/healthz");
      assertThat(ports.get((String) get.get("port"))).as(probe).isEqualTo(config.admin().port());
    }

    // a drain fits in the grace period, after the preStop pause
    List<String> preStop = (List<String>) map(map(map(container, "lifecycle"), "preStop"), "exec").get("command");
    long pause = Long.parseLong(preStop.get(preStop.size() - 1));
    assertThat(Duration.ofSeconds(((Number) pod.get("terminationGracePeriodSeconds")).longValue()))
        .isGreaterThan(config.shutdownTimeout().plusSeconds(pause));

    // resources and a locked-down container
    assertThat(map(map(container, "resources"), "requests")).containsKeys("cpu", "memory");
    assertThat(map(map(container, "resources"), "limits")).containsKey("memory");
    assertThat(map(pod, "securityContext")).containsEntry("runAsNonRoot", true);
    assertThat(map(container, "securityContext")).containsEntry("allowPrivilegeEscalation", false)
        .containsEntry("readOnlyRootFilesystem", true);
    assertThat(volumeMountedAt(pod, container, "/tmp")).as("a writable /tmp").containsKey("emptyDir");
  }

  @Test
  @SuppressWarnings("unchecked")
  void theServiceAndTheBudgetSelectTheDeploymentsPods() {
    Map<String, Object> template = map(map(byKind.get("Deployment"), "spec"), "template");
    Map<String, Object> labels = map(map(template, "metadata"), "labels");
    assertThat(labels).containsAllEntriesOf(map(map(map(byKind.get("Deployment"), "spec"), "selector"),
        "matchLabels"));
    Map<String, Object> service = map(byKind.get("Service"), "spec");
    assertThat(labels).containsAllEntriesOf(map(service, "selector"));
    assertThat(labels).containsAllEntriesOf(map(map(map(byKind.get("PodDisruptionBudget"), "spec"), "selector"),
        "matchLabels"));
    List<String> portNames = ((List<Map<String, Object>>) container(byKind.get("Deployment")).get("ports")).stream()
        .map(p -> (String) p.get("name")).toList();
    for (Map<String, Object> p : (List<Map<String, Object>>) service.get("ports")) {
      assertThat(portNames).contains((String) p.get("targetPort"));
      assertThat(p.get("targetPort")).as("the admin port stays inside the cluster").isNotEqualTo("admin");
    }
    assertThat(map(byKind.get("Service"), "spec")).doesNotContainKey("sessionAffinity");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Map<String, Object> m, String key) {
    Object v = m.get(key);
    assertThat(v).as(key).isInstanceOf(Map.class);
    return (Map<String, Object>) v;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> container(Map<String, Object> deployment) {
    List<Map<String, Object>> containers = (List<Map<String, Object>>) map(map(map(deployment, "spec"), "template"),
        "spec").get("containers");
    assertThat(containers).hasSize(1);
    return containers.get(0);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> volumeMountedAt(Map<String, Object> pod, Map<String, Object> container,
                                                     String path) {
    String name = ((List<Map<String, Object>>) container.get("volumeMounts")).stream()
        .filter(m -> path.equals(m.get("mountPath"))).map(m -> (String) m.get("name")).findFirst()
        .orElseThrow(() -> new AssertionError("nothing mounted at " + path));
    return ((List<Map<String, Object>>) pod.get("volumes")).stream().filter(v -> name.equals(v.get("name")))
        .findFirst().orElseThrow(() -> new AssertionError("no volume " + name));
  }
}
