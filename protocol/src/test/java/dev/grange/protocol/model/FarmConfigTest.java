package dev.grange.protocol.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class FarmConfigTest {
  static final String FULL =
      """
      grange.hosts {
        linux-amd64-local {
          pool = local, local { min = 1, max = 4 }, expected = 2, cost = 3,
          boot-timeout = 60s, hermetic = true, notes = "on the node itself"
        }
        linux-arm64-lab { pool = reverse, expected = 3 }
        linux-amd64-k8s {
          pool = kubernetes
          kubernetes {
            image = "ghcr.io/grange/linux-amd64:1", cpu = "2", memory = "4Gi"
            node-selector { arch = amd64, pool = builders }, env = ["GOCACHE=/cache"]
          }
        }
        linux-amd64-gce {
          pool = gce
          gce { machine-type = e2-standard-8, image = grange-linux, zones = [us-central1-a, us-central1-b], disk-gb = 50, cpus = 8 }
        }
      }
      grange.repos {
        go { url = "https://go.googlesource.com/go", branches = [master, "release-branch.go1.22"] }
        tools { url = "https://go.googlesource.com/tools", branches = [master] }
      }
      grange.builders {
        linux-amd64 {
          host-type = linux-amd64-local
          repos = [ { repo = go, branches = [master, "release-branch.go1.22"] }, { repo = tools, branches = [master] } ]
          steps = [
            { name = make, cmd = "./make.bash", args = ["-v"], env = ["GOOS=linux"], dir = src, timeout = 20m }
            { name = test, cmd = go, args = [tool, dist, test], sys = true }
          ]
          notes = "the first port"
        }
      }
      """;

  static FarmConfig load(String hocon) {
    return FarmConfig.fromConfig(ConfigFactory.parseString(hocon).resolve());
  }

  @Test
  void validConfigLoadsEveryValueGiven() {
    FarmConfig farm = load(FULL);

    HostTypeSpec local = farm.host("linux-amd64-local").orElseThrow();
    assertEquals(
        new HostTypeSpec(
            "linux-amd64-local", PoolKind.LOCAL, 2, 3, "on the node itself",
            new LocalPoolSpec(1, 4), null, null, 60_000, true),
        local);

    HostTypeSpec k8s = farm.host("linux-amd64-k8s").orElseThrow();
    assertEquals(PoolKind.KUBERNETES, k8s.pool());
    assertEquals(
        new KubernetesPoolSpec(
            "ghcr.io/grange/linux-amd64:1", "2", "4Gi",
            Map.of("arch", "amd64", "pool", "builders"), List.of("GOCACHE=/cache")),
        k8s.kubernetes());

    GcePoolSpec gce = farm.host("linux-amd64-gce").orElseThrow().gce();
    assertEquals(
        new GcePoolSpec(
            "e2-standard-8", "grange-linux", List.of("us-central1-a", "us-central1-b"), 50, 8),
        gce);

    BuilderSpec builder = farm.builder("linux-amd64").orElseThrow();
    assertEquals("linux-amd64-local", builder.hostType());
    assertEquals("the first port", builder.notes());
    assertEquals(
        List.of(
            new RepoBranches("go", List.of("master", "release-branch.go1.22")),
            new RepoBranches("tools", List.of("master"))),
        builder.repos());
    assertEquals(
        List.of(
            new StepSpec(
                "make", "./make.bash", List.of("-v"), List.of("GOOS=linux"), "src", 20 * 60_000,
                false),
            new StepSpec(
                "test", "go", List.of("tool", "dist", "test"), List.of(), ".", 30 * 60_000, true)),
        builder.steps());
  }

  @Test
  void omittedKeysTakeTheirDefaults() {
    FarmConfig farm =
        load(
            """
            grange.hosts {
              lab { pool = reverse }
              here { pool = local, local { max = 1 } }
              pods { pool = kubernetes, kubernetes { image = img } }
              vms { pool = gce, gce { machine-type = e2-small, image = img, zones = [z] } }
            }
            grange.builders.b { host-type = lab, steps = [ { name = s, cmd = run } ] }
            """);

    HostTypeSpec lab = farm.host("lab").orElseThrow();
    assertEquals(0, lab.expected());
    assertEquals(1, lab.cost());
    assertEquals(5 * 60_000, lab.bootTimeoutMs());
    assertEquals(false, lab.hermetic());
    assertEquals("", lab.notes());
    assertNull(lab.local());
    assertNull(lab.kubernetes());
    assertNull(lab.gce());

    assertEquals(new LocalPoolSpec(0, 1), farm.host("here").orElseThrow().local());
    KubernetesPoolSpec pods = farm.host("pods").orElseThrow().kubernetes();
    assertEquals("1", pods.cpu());
    assertEquals("2Gi", pods.memory());
    assertEquals(Map.of(), pods.nodeSelector());
    assertEquals(List.of(), pods.env());
    GcePoolSpec vms = farm.host("vms").orElseThrow().gce();
    assertEquals(10, vms.diskGb());
    assertEquals(2, vms.cpus(), "an e2-small's 2 shared vCPUs, from its name");

    BuilderSpec b = farm.builder("b").orElseThrow();
    assertEquals(List.of(), b.repos());
    assertEquals("", b.notes());
    assertEquals(
        new StepSpec("s", "run", List.of(), List.of(), ".", 30 * 60_000, false), b.steps().get(0));
  }

  @Test
  void absentSectionsMeanAnEmptyFarm() {
    FarmConfig farm = load("grange.other = 1");

    assertTrue(farm.hosts().isEmpty());
    assertTrue(farm.builders().isEmpty());
  }

  @Test
  void hostsAndBuildersAreSortedAndCannotBeChanged() {
    FarmConfig farm = load(FULL);

    assertEquals(
        List.of("linux-amd64-gce", "linux-amd64-k8s", "linux-amd64-local", "linux-arm64-lab"),
        List.copyOf(farm.hosts().keySet()));
    assertThrows(UnsupportedOperationException.class, () -> farm.hosts().clear());
    assertThrows(UnsupportedOperationException.class, () -> farm.builders().remove("linux-amd64"));
    assertThrows(
        UnsupportedOperationException.class,
        () -> farm.builder("linux-amd64").orElseThrow().steps().clear());
  }

  @Test
  void lookupOfAnUnknownNameIsEmpty() {
    FarmConfig farm = load(FULL);

    assertEquals(Optional.empty(), farm.host("linux-amd64"));
    assertEquals(Optional.empty(), farm.builder("linux-amd64-local"));
  }

  @Test
  void quotedNameWithADotIsOneHostType() {
    FarmConfig farm =
        load(
            """
            grange.hosts { "linux-amd64.v2" { pool = reverse } }
            grange.builders { "linux-amd64.v2" { host-type = "linux-amd64.v2", steps = [ { name = s, cmd = c } ] } }
            """);

    assertEquals("linux-amd64.v2", farm.host("linux-amd64.v2").orElseThrow().name());
    assertEquals("linux-amd64.v2", farm.builder("linux-amd64.v2").orElseThrow().hostType());
  }

  @Test
  void durationWrittenAsANumberIsMilliseconds() {
    FarmConfig farm = load("grange.hosts.h { pool = reverse, boot-timeout = 1500 }");

    assertEquals(1500, farm.host("h").orElseThrow().bootTimeoutMs());
  }

  @Test
  void farmSurvivesAJacksonRoundTrip() throws Exception {
    ObjectMapper json = new ObjectMapper();
    FarmConfig farm = load(FULL);

    FarmConfig back = json.readValue(json.writeValueAsBytes(farm), FarmConfig.class);

    assertEquals(farm, back);
  }

  @Test
  void specsRefuseParametersThatBreakTheirInvariants() {
    assertThrows(IllegalArgumentException.class, () -> new LocalPoolSpec(0, 0));
    assertThrows(IllegalArgumentException.class, () -> new LocalPoolSpec(5, 4));
    assertThrows(
        IllegalArgumentException.class,
        () -> new HostTypeSpec("h", PoolKind.LOCAL, 0, 1, "", null, null, null, 1000, false));
    assertThrows(
        IllegalArgumentException.class,
        () -> new BuilderSpec("b", "h", List.of(), List.of(), ""));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new FarmConfig(
                Map.of(), Map.of("linux-amd64", load(FULL).builder("linux-amd64").orElseThrow())));
  }

  @Test
  void aGceMachineTypeSaysItsVcpusByItsName() {
    Map<String, Integer> named = new java.util.LinkedHashMap<>();
    for (String t : List.of("e2-standard-8", "n2-highmem-16", "n2d-highcpu-224", "c3-standard-22-lssd", "m1-ultramem-40",
        "custom-6-24576", "n2-custom-4-32768-ext", "e2-medium", "g1-small")) {
      named.put(t, GcePoolSpec.vcpusOf(t).orElse(-1));
    }
    assertEquals(Map.of("e2-standard-8", 8, "n2-highmem-16", 16, "n2d-highcpu-224", 224, "c3-standard-22-lssd", 22,
        "m1-ultramem-40", 40, "custom-6-24576", 6, "n2-custom-4-32768-ext", 4, "e2-medium", 2, "g1-small", 1), named);
    for (String t : List.of("a2-highgpu-1g", "ct5lp-hightpu-4t", "e2-standard-0", "e2-standard", "standard-8", "")) {
      assertTrue(GcePoolSpec.vcpusOf(t).isEmpty(), t);
    }
  }
}
