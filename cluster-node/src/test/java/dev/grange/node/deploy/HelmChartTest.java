package dev.grange.node.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigValueFactory;
import dev.grange.node.NodeSettings;
import dev.grange.node.pool.kube.KubeApiUse;
import dev.grange.protocol.model.FarmConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Helm chart ({@code helm/grange}) rendered without helm ({@link ChartRenderer}), with its
 * default values and with values-small.yaml and values-large.yaml, and checked the way a cluster
 * and a node would read it: well-formed objects, selectors that select the pods, probes on Pekko
 * Management, RBAC that grants exactly what the pools and discovery use ({@link KubeApiUse}), and
 * a node config that the node's own readers accept, consistent with the pod it runs in.
 */
class HelmChartTest {
  static final Path ROOT = repoRoot();
  static final Path CHART = ROOT.resolve("helm/grange");
  private static final String RELEASE = "farm";
  private static final String NAMESPACE = "builds";
  private static final String POD_IP = "10.20.30.40";
  private static final ObjectMapper YAML = YAMLMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

  static Path repoRoot() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.isDirectory(p.resolve("helm/grange"))) {
      p = p.getParent();
    }
    assertNotNull(p, "no helm/grange above " + Path.of("").toAbsolutePath());
    return p;
  }

  // ---- rendering ----

  @SuppressWarnings("unchecked")
  private static Map<String, Object> yamlFile(Path f) {
    try {
      Map<String, Object> m = YAML.readValue(f.toFile(), Map.class);
      return m == null ? Map.of() : m;
    } catch (IOException e) {
      throw new AssertionError(f + " is not YAML: " + e.getMessage(), e);
    }
  }

  /** The values: values.yaml, then each file named (under the chart), then {@code overrides}. */
  private static Map<String, Object> values(String file, Map<String, Object> overrides) {
    Map<String, Object> v = yamlFile(CHART.resolve("values.yaml"));
    if (!file.isEmpty()) {
      v = ChartRenderer.merge(v, yamlFile(CHART.resolve(file)));
    }
    return ChartRenderer.merge(v, overrides);
  }

  private static Map<String, Object> root(Map<String, Object> values, String release) {
    Map<String, Object> chart = yamlFile(CHART.resolve("Chart.yaml"));
    Map<String, Object> root = new HashMap<>();
    root.put("Values", values);
    root.put("Release", Map.of("Name", release, "Namespace", NAMESPACE, "Service", "Helm"));
    root.put("Chart", Map.of("Name", chart.get("name"), "Version", chart.get("version"), "AppVersion", chart.get("appVersion")));
    return root;
  }

  /** Every template's output. */
  private static Map<String, String> renderText(Map<String, Object> values) {
    return ChartRenderer.parse(ChartRenderer.templatesOf(CHART)).render(root(values, RELEASE));
  }

  /** Every non-empty document of every template, parsed. */
  private static List<JsonNode> render(Map<String, Object> values) {
    Map<String, String> out = renderText(values);
    List<JsonNode> docs = new ArrayList<>();
    out.forEach((file, text) -> {
      for (String doc : text.split("(?m)^---\\s*$")) {
        boolean empty = doc.lines().allMatch(l -> l.isBlank() || l.strip().startsWith("#"));
        if (empty) {
          continue;
        }
        try {
          docs.add(YAML.readTree(doc));
        } catch (IOException e) {
          throw new AssertionError("templates/" + file + " renders a document that is not YAML: " + e.getMessage() + "\n" + doc, e);
        }
      }
    });
    return docs;
  }

  private static List<JsonNode> render(String file) {
    return render(values(file, Map.of()));
  }

  private static JsonNode one(List<JsonNode> docs, String kind, String name) {
    List<JsonNode> found = docs.stream()
        .filter(d -> d.path("kind").asText().equals(kind) && d.path("metadata").path("name").asText().equals(name)).toList();
    assertEquals(1, found.size(), "one " + kind + " named " + name + " in " + names(docs));
    return found.get(0);
  }

  private static List<JsonNode> all(List<JsonNode> docs, String kind) {
    return docs.stream().filter(d -> d.path("kind").asText().equals(kind)).toList();
  }

  private static List<String> names(List<JsonNode> docs) {
    return docs.stream().map(d -> d.path("kind").asText() + "/" + d.path("metadata").path("name").asText()).toList();
  }

  private static Map<String, String> stringMap(JsonNode n) {
    Map<String, String> m = new TreeMap<>();
    n.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().asText()));
    return m;
  }

  private static Stream<JsonNode> stream(JsonNode array) {
    return StreamSupport.stream(array.spliterator(), false);
  }

  private static JsonNode nodeContainer(JsonNode sts) {
    JsonNode containers = sts.path("spec").path("template").path("spec").path("containers");
    assertEquals(1, containers.size(), "one container in the node pod");
    return containers.get(0);
  }

  private static String fullname() {
    return RELEASE + "-grange";
  }

  // ---- the documents ----

  @ParameterizedTest(name = "values {0}")
  @ValueSource(strings = {"", "values-small.yaml", "values-large.yaml"})
  void everyDocumentIsAKubernetesObjectWithAName(String file) throws IOException {
    // For people: what the chart renders to, as helm template would print it.
    StringBuilder all = new StringBuilder();
    renderText(values(file, Map.of())).forEach((f, text) -> all.append("---\n# Source: grange/templates/").append(f).append('\n').append(text).append('\n'));
    Path out = Path.of("target", "helm", (file.isEmpty() ? "values" : file.replace(".yaml", "")) + ".rendered.yaml");
    Files.createDirectories(out.getParent());
    Files.writeString(out, all);
    List<JsonNode> docs = render(file);
    assertTrue(docs.size() >= 8, "documents: " + names(docs));
    for (JsonNode d : docs) {
      assertFalse(d.path("apiVersion").asText().isEmpty(), "apiVersion in " + d);
      assertFalse(d.path("kind").asText().isEmpty(), "kind in " + d);
      assertFalse(d.path("metadata").path("name").asText().isEmpty(), "metadata.name in " + d);
    }
    Set<String> unique = new TreeSet<>(names(docs));
    assertEquals(docs.size(), unique.size(), "a kind and name twice: " + names(docs));
    for (String kind : List.of("StatefulSet", "ConfigMap", "ServiceAccount")) {
      assertEquals(1, all(docs, kind).size(), kind + " in " + names(docs));
    }
  }

  @ParameterizedTest(name = "values {0}")
  @ValueSource(strings = {"", "values-small.yaml", "values-large.yaml"})
  void theStatefulSetsSelectorSelectsItsPodsAndTheServicesSelectThem(String file) {
    List<JsonNode> docs = render(file);
    JsonNode sts = one(docs, "StatefulSet", fullname());
    Map<String, String> selector = stringMap(sts.path("spec").path("selector").path("matchLabels"));
    Map<String, String> podLabels = stringMap(sts.path("spec").path("template").path("metadata").path("labels"));
    assertFalse(selector.isEmpty(), "the StatefulSet has a selector");
    assertTrue(podLabels.entrySet().containsAll(selector.entrySet()), "pod labels " + podLabels + " match the selector " + selector);
    List<JsonNode> services = all(docs, "Service");
    assertEquals(2, services.size(), "the HTTP and the headless Service: " + names(docs));
    Set<String> podPorts = stream(nodeContainer(sts).path("ports")).map(p -> p.path("name").asText()).collect(Collectors.toSet());
    for (JsonNode svc : services) {
      Map<String, String> s = stringMap(svc.path("spec").path("selector"));
      assertFalse(s.isEmpty(), svc.path("metadata").path("name") + " selects something");
      assertTrue(podLabels.entrySet().containsAll(s.entrySet()), svc.path("metadata").path("name") + " selects the node pods: " + s);
      stream(svc.path("spec").path("ports")).forEach(p ->
          assertTrue(podPorts.contains(p.path("targetPort").asText()), "target port " + p + " is a port of the node container " + podPorts));
    }
    JsonNode headless = one(docs, "Service", sts.path("spec").path("serviceName").asText());
    assertEquals("None", headless.path("spec").path("clusterIP").asText(), "the StatefulSet's serviceName is the headless Service");
    JsonNode http = one(docs, "Service", fullname());
    assertEquals(8080, http.path("spec").path("ports").get(0).path("port").asInt());
  }

  @ParameterizedTest(name = "values {0}")
  @ValueSource(strings = {"", "values-small.yaml", "values-large.yaml"})
  void probesAskPekkoManagementForReadyAndAlive(String file) {
    JsonNode c = nodeContainer(one(render(file), "StatefulSet", fullname()));
    Map<String, Integer> ports = new HashMap<>();
    stream(c.path("ports")).forEach(p -> ports.put(p.path("name").asText(), p.path("containerPort").asInt()));
    for (var probe : Map.of("readinessProbe", "/ready", "livenessProbe", "/alive").entrySet()) {
      JsonNode get = c.path(probe.getKey()).path("httpGet");
      assertEquals(probe.getValue(), get.path("path").asText(), probe.getKey());
      String port = get.path("port").asText();
      assertTrue(ports.containsKey(port), probe.getKey() + " names port " + port + ", which the container has: " + ports);
      assertEquals(8558, ports.get(port), probe.getKey() + " is on Pekko Management's port");
    }
  }

  // ---- RBAC ----

  private static Set<String> grants(List<KubeApiUse.Rule> rules) {
    Set<String> out = new TreeSet<>();
    for (KubeApiUse.Rule r : rules) {
      r.verbs().forEach(v -> out.add(r.apiGroup() + "/" + r.resource() + ":" + v));
    }
    return out;
  }

  private static Set<String> grants(JsonNode role) {
    Set<String> out = new TreeSet<>();
    for (JsonNode rule : role.path("rules")) {
      for (JsonNode g : rule.path("apiGroups")) {
        for (JsonNode res : rule.path("resources")) {
          for (JsonNode v : rule.path("verbs")) {
            out.add(g.asText() + "/" + res.asText() + ":" + v.asText());
          }
        }
      }
    }
    return out;
  }

  /** The Role and its binding to the nodes' ServiceAccount, in {@code namespace}. */
  private static JsonNode boundRole(List<JsonNode> docs, String name, String namespace) {
    JsonNode role = one(docs, "Role", name);
    assertEquals(namespace, role.path("metadata").path("namespace").asText(), "Role " + name + "'s namespace");
    JsonNode sts = one(docs, "StatefulSet", fullname());
    String account = sts.path("spec").path("template").path("spec").path("serviceAccountName").asText();
    one(docs, "ServiceAccount", account);
    List<JsonNode> bindings = all(docs, "RoleBinding").stream()
        .filter(b -> b.path("roleRef").path("name").asText().equals(name) && b.path("roleRef").path("kind").asText().equals("Role")).toList();
    assertEquals(1, bindings.size(), "one RoleBinding of Role " + name);
    JsonNode b = bindings.get(0);
    assertEquals(namespace, b.path("metadata").path("namespace").asText(), "RoleBinding of " + name + " is in the Role's namespace");
    JsonNode subject = b.path("subjects").get(0);
    assertEquals(1, b.path("subjects").size());
    assertEquals("ServiceAccount", subject.path("kind").asText());
    assertEquals(account, subject.path("name").asText(), "the binding names the pods' ServiceAccount");
    assertEquals(NAMESPACE, subject.path("namespace").asText(), "the ServiceAccount is in the release's namespace");
    return role;
  }

  @ParameterizedTest(name = "pool.namespace \"{0}\"")
  @ValueSource(strings = {"", "grange-pool"})
  void rolesGrantExactlyWhatThePoolsAndDiscoveryUse(String poolNamespace) {
    List<JsonNode> docs = render(values("", Map.of("pool", Map.of("namespace", poolNamespace))));
    String expectedPoolNs = poolNamespace.isEmpty() ? NAMESPACE : poolNamespace;
    JsonNode pool = boundRole(docs, fullname() + "-pool", expectedPoolNs);
    assertEquals(grants(KubeApiUse.POOL_NAMESPACE), grants(pool), "the pool namespace's Role grants exactly KubeApiUse.POOL_NAMESPACE");
    JsonNode nodes = boundRole(docs, fullname() + "-nodes", NAMESPACE);
    assertEquals(grants(KubeApiUse.NODE_NAMESPACE), grants(nodes), "the release namespace's Role grants exactly KubeApiUse.NODE_NAMESPACE");
    assertTrue(all(docs, "ClusterRole").isEmpty() && all(docs, "ClusterRoleBinding").isEmpty(), "nothing cluster-wide");
    String env = stream(nodeContainer(one(docs, "StatefulSet", fullname())).path("env"))
        .filter(e -> e.path("name").asText().equals("GRANGE_POOL_NAMESPACE")).findFirst().orElseThrow().path("value").asText();
    assertEquals(expectedPoolNs, env, "the node is told the pool namespace its Role is in");
  }

  // ---- the node's config ----

  /** The container's environment as the node would see it: fields and secrets given test values. */
  private static Map<String, String> containerEnv(JsonNode container) {
    Map<String, String> env = new LinkedHashMap<>();
    for (JsonNode e : container.path("env")) {
      String name = e.path("name").asText();
      JsonNode from = e.path("valueFrom");
      if (from.isMissingNode()) {
        env.put(name, e.path("value").asText());
      } else if (from.path("fieldRef").path("fieldPath").asText().equals("status.podIP")) {
        env.put(name, POD_IP);
      } else if (from.has("secretKeyRef")) {
        env.put(name, "secret-" + from.path("secretKeyRef").path("key").asText());
      } else {
        throw new AssertionError("env " + name + " from " + from + ": unknown to this test");
      }
    }
    return env;
  }

  /** The volume mounted at the directory of {@code file}, and the file's name in it. */
  private static JsonNode volumeHolding(JsonNode sts, String file) {
    JsonNode c = nodeContainer(sts);
    Path p = Path.of(file);
    JsonNode mount = stream(c.path("volumeMounts")).filter(m -> Path.of(m.path("mountPath").asText()).equals(p.getParent()))
        .findFirst().orElseThrow(() -> new AssertionError("no volume is mounted at " + p.getParent() + ": " + c.path("volumeMounts")));
    return stream(sts.path("spec").path("template").path("spec").path("volumes"))
        .filter(v -> v.path("name").asText().equals(mount.path("name").asText())).findFirst()
        .orElseThrow(() -> new AssertionError("no volume named " + mount.path("name")));
  }

  /** The config the node loads: the ConfigMap's file as -Dconfig.file, over reference.conf, as ConfigFactory.load does. */
  private static Config nodeConfig(List<JsonNode> docs) {
    JsonNode sts = one(docs, "StatefulSet", fullname());
    Map<String, String> env = containerEnv(nodeContainer(sts));
    String javaOpts = env.get("JAVA_OPTS");
    assertNotNull(javaOpts, "JAVA_OPTS in " + env.keySet());
    String configFile = List.of(javaOpts.split("\\s+")).stream().filter(o -> o.startsWith("-Dconfig.file=")).findFirst()
        .orElseThrow(() -> new AssertionError("-Dconfig.file in JAVA_OPTS " + javaOpts)).substring("-Dconfig.file=".length());
    JsonNode volume = volumeHolding(sts, configFile);
    JsonNode cm = one(docs, "ConfigMap", volume.path("configMap").path("name").asText());
    String fileName = Path.of(configFile).getFileName().toString();
    assertTrue(cm.path("data").has(fileName), "ConfigMap " + cm.path("metadata").path("name") + " holds " + fileName);
    String hocon = cm.path("data").path(fileName).asText();
    Config environment = ConfigFactory.parseMap(env);
    try {
      return ConfigFactory.load(HelmChartTest.class.getClassLoader(), ConfigFactory.parseString(hocon).withFallback(environment),
          ConfigResolveOptions.defaults().setUseSystemEnvironment(false));
    } catch (RuntimeException e) {
      throw new AssertionError("the node cannot load the ConfigMap's " + fileName + ": " + e.getMessage() + "\n" + hocon, e);
    }
  }

  @ParameterizedTest(name = "values {0}")
  @ValueSource(strings = {"", "values-small.yaml", "values-large.yaml"})
  void theNodeConfigPassesTheChecksTheNodeRunsAtStart(String file) throws IOException {
    Map<String, Object> values = values(file, Map.of());
    Config config = nodeConfig(render(values));
    FarmConfig farm = FarmConfig.fromConfig(config);
    @SuppressWarnings("unchecked")
    Map<String, Object> farmValues = (Map<String, Object>) values.get("farm");
    assertEquals(((Map<?, ?>) farmValues.get("hosts")).keySet(), farm.hosts().keySet(), "host types from values");
    assertEquals(((Map<?, ?>) farmValues.get("builders")).keySet(), farm.builders().keySet(), "builders from values");
    NodeSettings settings = NodeSettings.fromConfig(
        config.withValue("grange.node.master-key", ConfigValueFactory.fromAnyRef("k".repeat(32))));
    @SuppressWarnings("unchecked")
    Map<String, Object> cassandra = (Map<String, Object>) values.get("cassandra");
    assertEquals(cassandra.get("keyspace"), settings.keyspace());
    assertEquals(cassandra.get("keyspace"), config.getString("pekko.persistence.cassandra.journal.keyspace"), "the journal follows grange.store.keyspace");
    assertEquals(cassandra.get("contactPoints"), config.getStringList("datastax-java-driver.basic.contact-points"));
    assertEquals(cassandra.get("localDatacenter"), config.getString("datastax-java-driver.basic.load-balancing-policy.local-datacenter"));
    assertFalse(config.getBoolean("grange.store.embedded"), "no embedded Cassandra in a pod");
    assertEquals("0.0.0.0", settings.httpInterface());
    List<JsonNode> docs = render(values);
    String poolRoleNs = docs.stream().filter(d -> d.path("kind").asText().equals("Role")
            && d.path("metadata").path("name").asText().endsWith("-pool"))
        .findFirst().orElseThrow(() -> new AssertionError("no pool Role")).path("metadata").path("namespace").asText();
    assertEquals(poolRoleNs, dev.grange.node.pool.kube.KubernetesProvider.Settings.fromConfig(config).namespace(),
        "the Kubernetes pool makes its pods where the chart's Role lets it");
  }

  @ParameterizedTest(name = "values {0}")
  @ValueSource(strings = {"", "values-small.yaml", "values-large.yaml"})
  void clusterBootstrapFindsThePodsOfThisReleaseOnTheirManagementPort(String file) throws ClassNotFoundException {
    Map<String, Object> values = values(file, Map.of());
    List<JsonNode> docs = render(values);
    Config config = nodeConfig(docs);
    JsonNode sts = one(docs, "StatefulSet", fullname());
    JsonNode c = nodeContainer(sts);
    assertTrue(config.getBoolean("grange.node.cluster-bootstrap"), "the node joins through Cluster Bootstrap");
    assertTrue(config.getStringList("pekko.cluster.seed-nodes").isEmpty(), "and has no seed nodes");
    String bootstrap = "pekko.management.cluster.bootstrap.contact-point-discovery.";
    assertEquals("kubernetes-api", config.getString(bootstrap + "discovery-method"));
    Class.forName(config.getString("pekko.discovery.kubernetes-api.class")); // the discovery is on the node's classpath
    Map<String, String> selector = new TreeMap<>();
    for (String kv : config.getString("pekko.discovery.kubernetes-api.pod-label-selector").split(",")) {
      String[] p = kv.split("=", 2);
      selector.put(p[0], p[1]);
    }
    assertEquals(stringMap(sts.path("spec").path("template").path("metadata").path("labels")), selector,
        "discovery lists exactly the node pods");
    String portName = config.getString(bootstrap + "port-name");
    int managementPort = config.getInt("pekko.management.http.port");
    assertTrue(stream(c.path("ports")).anyMatch(p -> p.path("name").asText().equals(portName) && p.path("containerPort").asInt() == managementPort),
        "the container names its port " + managementPort + " " + portName + ": " + c.path("ports"));
    assertEquals(POD_IP, config.getString("pekko.remote.artery.canonical.hostname"), "Artery is reached at the pod IP");
    assertEquals(POD_IP, config.getString("pekko.management.http.hostname"), "bootstrap knows itself by the pod IP");
    assertTrue(stream(c.path("ports")).anyMatch(p -> p.path("containerPort").asInt() == config.getInt("pekko.remote.artery.canonical.port")));
    assertTrue(stream(c.path("ports")).anyMatch(p -> p.path("name").asText().equals("http")
        && p.path("containerPort").asInt() == config.getInt("grange.node.http.port")));
    int replicas = sts.path("spec").path("replicas").asInt();
    int required = config.getInt(bootstrap + "required-contact-point-nr");
    assertTrue(required <= replicas && required > replicas / 2,
        "required-contact-point-nr " + required + " is at most the " + replicas + " replicas and a majority of them");
    assertEquals("Parallel", sts.path("spec").path("podManagementPolicy").asText(),
        "pods start together: one by one, the first would never be ready without its peers");
    assertEquals(values.get("replicas"), replicas);
    String serviceUrl = "ws://" + fullname() + "." + NAMESPACE + ".svc.cluster.local:8080";
    assertEquals(List.of(serviceUrl), config.getStringList("grange.node.agent-urls"), "pool agents dial the HTTP Service");
  }

  @Test
  void theMasterKeyComesFromTheSecretMountedWhereTheNodeReadsIt() {
    for (var masterKey : List.of(
        Map.<String, Object>of("existingSecret", "ops-key", "secretKey", "master-key", "value", ""),
        Map.<String, Object>of("existingSecret", "", "secretKey", "key", "value", "0123456789abcdef0123456789abcdef"))) {
      List<JsonNode> docs = render(values("", Map.of("masterKey", masterKey)));
      Config config = nodeConfig(docs);
      String file = config.getString("grange.node.master-key-file");
      JsonNode volume = volumeHolding(one(docs, "StatefulSet", fullname()), file);
      String secret = volume.path("secret").path("secretName").asText();
      assertEquals(masterKey.get("secretKey"), Path.of(file).getFileName().toString(), "the file is the Secret's key");
      List<JsonNode> secrets = all(docs, "Secret");
      if (masterKey.get("value").equals("")) {
        assertEquals(masterKey.get("existingSecret"), secret);
        assertTrue(secrets.isEmpty(), "no Secret of the chart's own: " + names(docs));
      } else {
        JsonNode s = one(docs, "Secret", secret);
        assertEquals(masterKey.get("value"), s.path("stringData").path((String) masterKey.get("secretKey")).asText());
      }
    }
  }

  @Test
  void theGitSshKeyAndKnownHostsComeFromTheirSecretMountedWhereTheNodeReadsThem() {
    List<JsonNode> docs = render(values("", Map.of("gitSsh", Map.of("existingSecret", "ops-git-ssh"))));
    Config config = nodeConfig(docs);
    JsonNode sts = one(docs, "StatefulSet", fullname());
    for (String key : List.of("grange.git-ssh.identity-file", "grange.git-ssh.known-hosts-file")) {
      JsonNode volume = volumeHolding(sts, config.getString(key));
      assertEquals("ops-git-ssh", volume.path("secret").path("secretName").asText(), key);
    }
    assertEquals("identity", Path.of(config.getString("grange.git-ssh.identity-file")).getFileName().toString());
    assertEquals("known_hosts", Path.of(config.getString("grange.git-ssh.known-hosts-file")).getFileName().toString());
    Config plain = nodeConfig(render(""));
    assertTrue(!plain.hasPath("grange.git-ssh.identity-file") || plain.getString("grange.git-ssh.identity-file").isEmpty(),
        "no ssh key by default");
  }

  @Test
  void neitherAMasterKeyNorASecretIsRefusedSayingWhatToSet() {
    Map<String, Object> v = values("", Map.of("masterKey", Map.of("existingSecret", "", "value", "")));
    ChartRenderer.TemplateException e = assertThrows(ChartRenderer.TemplateException.class, () -> render(v));
    assertTrue(e.getMessage().contains("masterKey.value") && e.getMessage().contains("masterKey.existingSecret"), e.getMessage());
  }

  @Test
  void cassandraCredentialsComeFromTheirSecretIntoTheDriversAuthProvider() {
    List<JsonNode> docs = render(values("", Map.of("cassandra", Map.of("auth", Map.of("existingSecret", "cassandra-login")))));
    Config config = nodeConfig(docs);
    assertEquals("PlainTextAuthProvider", config.getString("datastax-java-driver.advanced.auth-provider.class"));
    assertEquals("secret-username", config.getString("datastax-java-driver.advanced.auth-provider.username"));
    assertEquals("secret-password", config.getString("datastax-java-driver.advanced.auth-provider.password"));
    assertFalse(nodeConfig(render("")).hasPath("datastax-java-driver.advanced.auth-provider.username"), "no credentials by default");
  }

  // ---- the renderer itself ----

  private static String renderOne(String template, Map<String, Object> values) {
    Map<String, String> templates = new TreeMap<>(Map.of("t.yaml", template,
        "_h.tpl", "{{- define \"h.name\" -}}\n{{ .Release.Name }}-x\n{{- end }}"));
    return ChartRenderer.parse(templates).render(root(values, "r")).get("t.yaml");
  }

  @Test
  void theRendererDoesWhatHelmDoesForTheSubset() {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("list", List.of("a", "b"));
    v.put("map", Map.of("k", 1));
    v.put("empty", "");
    v.put("n", 3);
    String out = renderOne("""
        name: {{ include "h.name" . }}
        items:
        {{- range .Values.list }}
          - {{ . | quote }} {{ $.Values.n }}
        {{- end }}
        m: {{- toYaml .Values.map | nindent 2 }}
        j: {{ toJson .Values.list }}
        d: {{ .Values.empty | default "dflt" }} {{ default "no" .Values.n }}
        {{- if not .Values.empty }}
        e: yes
        {{- else }}
        e: no
        {{- end }}
        """, v);
    assertEquals("""
        name: r-x
        items:
          - "a" 3
          - "b" 3
        m:
          k: 1
        j: ["a","b"]
        d: dflt 3
        e: yes
        """, out);
  }

  @Test
  void aTemplateReadingAValueThatValuesYamlDoesNotDeclareFails() {
    ChartRenderer.TemplateException e = assertThrows(ChartRenderer.TemplateException.class,
        () -> renderOne("a: {{ .Values.image.tga }}", Map.of("image", Map.of("tag", "1"))));
    assertTrue(e.getMessage().contains(".Values.image.tga is not set"), e.getMessage());
  }

  @Test
  void syntaxOutsideTheSubsetFailsEvenInABranchNotTaken() {
    for (String t : List.of(
        "{{ if false }}{{ with .Values }}x{{ end }}{{ end }}",
        "{{ if false }}{{ upper \"x\" }}{{ end }}",
        "{{ $x := 1 }}",
        "{{ if .Values }}x{{ else if .Values }}y{{ end }}",
        "{{ .Values",
        "{{ if .Values }}x",
        "{{ include \"h.name\" (list 1) }}")) {
      assertThrows(ChartRenderer.TemplateException.class, () -> renderOne(t, Map.of()), t);
    }
  }
}
