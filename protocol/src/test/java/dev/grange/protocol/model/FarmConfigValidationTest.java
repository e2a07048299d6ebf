package dev.grange.protocol.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Each kind of mistake is reported with the full key path, and all of them at once. */
class FarmConfigValidationTest {
  private static final String HOSTS =
      """
      grange.hosts {
        linux-amd64-local { pool = local, local { max = 4 } }
        linux-arm64-lab { pool = reverse }
      }
      """;

  /** The problems of loading {@code hocon}, which must fail. */
  private static List<String> problems(String hocon) {
    InvalidConfigException e =
        assertThrows(
            InvalidConfigException.class,
            () -> FarmConfig.fromConfig(ConfigFactory.parseString(hocon).resolve()));
    return e.problems();
  }

  /** The problems of a farm with the usual hosts and one builder whose body is {@code body}. */
  private static List<String> builderProblems(String body) {
    return problems(HOSTS + "grange.builders.linux-amd64 {\n" + body + "\n}");
  }

  private static List<String> stepProblems(String step) {
    return builderProblems("host-type = linux-amd64-local, steps = [ { " + step + " } ]");
  }

  private static void assertHasProblemStartingWith(List<String> problems, String prefix) {
    assertTrue(
        problems.stream().anyMatch(p -> p.startsWith(prefix)),
        () -> "no problem starts with [" + prefix + "] in " + problems);
  }

  @Test
  void builderWithUnknownHostTypeIsRefusedNamingTheKey() {
    List<String> problems =
        builderProblems("host-type = linux-amd64-locl, steps = [ { name = make, cmd = make } ]");

    assertEquals(
        List.of(
            "grange.builders.linux-amd64.host-type: unknown host type \"linux-amd64-locl\""
                + " (known: linux-amd64-local, linux-arm64-lab)"),
        problems);
  }

  @Test
  void negativeStepTimeoutIsRefusedNamingTheKey() {
    assertEquals(
        List.of(
            "grange.builders.linux-amd64.steps[0].timeout: must be a positive duration like 10m,"
                + " got \"-5s\""),
        stepProblems("name = make, cmd = make, timeout = -5s"));
  }

  @Test
  void zeroOrUnreadableBootTimeoutIsRefused() {
    List<String> problems =
        problems(
            """
            grange.hosts { a { pool = reverse, boot-timeout = 0s }, b { pool = reverse, boot-timeout = soon } }
            """);

    assertEquals(
        List.of(
            "grange.hosts.a.boot-timeout: must be a positive duration like 5m, got \"0s\"",
            "grange.hosts.b.boot-timeout: must be a positive duration like 5m, got \"soon\""),
        problems);
  }

  @Test
  void missingRequiredKeysAreReported() {
    List<String> problems =
        problems(
            """
            grange.hosts.h { expected = 1 }
            grange.builders.b { steps = [ { args = [x] } ] }
            """);

    assertHasProblemStartingWith(problems, "grange.hosts.h.pool: missing required key");
    assertHasProblemStartingWith(problems, "grange.builders.b.host-type: missing required key");
    assertHasProblemStartingWith(problems, "grange.builders.b.steps[0].name: missing required key");
    assertHasProblemStartingWith(problems, "grange.builders.b.steps[0].cmd: missing required key");
    assertEquals(4, problems.size(), problems::toString);
  }

  @Test
  void wrongTypesAreReportedWithTheFullKey() {
    List<String> problems =
        problems(
            """
            grange.hosts.h { pool = reverse, expected = lots, cost = 1.5, hermetic = maybe, notes = [a] }
            grange.builders.b { host-type = h, steps = [ { name = s, cmd = c, args = {a = 1} }, "make" ] }
            """);

    assertEquals(
        List.of(
            "grange.builders.b.steps[0].args: must be a list of strings, got {\"a\":1}",
            "grange.builders.b.steps[1]: must be an object like"
                + " { name = make, cmd = \"./make.bash\" }, got \"make\"",
            "grange.hosts.h.cost: must be a whole number, got 1.5",
            "grange.hosts.h.expected: must be a whole number, got \"lots\"",
            "grange.hosts.h.hermetic: must be true or false, got \"maybe\"",
            "grange.hosts.h.notes: must be a string, got [\"a\"]"),
        problems.stream().sorted().toList());
  }

  @Test
  void unknownPoolKindListsTheKnownKinds() {
    assertEquals(
        List.of(
            "grange.hosts.h.pool: unknown pool kind \"revrese\""
                + " (known: reverse, local, kubernetes, gce)"),
        problems("grange.hosts.h { pool = revrese }"));
  }

  @Test
  void badNamesAreRefused() {
    String tooLong = "a".repeat(65);
    List<String> problems =
        problems(
            "grange.hosts { Linux_AMD64 { pool = reverse }, \"-lab\" { pool = reverse }, "
                + tooLong + " { pool = reverse }, " + "a".repeat(64) + " { pool = reverse } }");

    assertEquals(3, problems.size(), problems::toString);
    assertHasProblemStartingWith(
        problems,
        "grange.hosts.Linux_AMD64: bad name \"Linux_AMD64\": must match [a-z0-9][a-z0-9._-]*"
            + " and be at most 64 characters");
    assertHasProblemStartingWith(problems, "grange.hosts.-lab: bad name \"-lab\"");
    assertHasProblemStartingWith(problems, "grange.hosts." + tooLong + ": bad name");
  }

  @Test
  void badBuilderNameIsRefused() {
    assertHasProblemStartingWith(
        problems(HOSTS + "grange.builders.\"linux amd64\" { host-type = linux-arm64-lab, steps = [ { name = s, cmd = c } ] }"),
        "grange.builders.\"linux amd64\": bad name");
  }

  @Test
  void builderWithNoStepsIsRefused() {
    assertEquals(
        List.of("grange.builders.linux-amd64.steps: a builder needs at least one step, got []"),
        builderProblems("host-type = linux-amd64-local, steps = []"));
    assertHasProblemStartingWith(
        builderProblems("host-type = linux-amd64-local"),
        "grange.builders.linux-amd64.steps: missing required key (a builder needs at least one step");
  }

  @Test
  void unknownKeyInAHostTypeSaysWhichKeysAreAllowed() {
    assertEquals(
        List.of(
            "grange.hosts.h.expcted: unknown key (allowed: boot-timeout, cost, expected, gce,"
                + " hermetic, kubernetes, local, notes, pool)"),
        problems("grange.hosts.h { pool = reverse, expcted = 3 }"));
  }

  @Test
  void unknownKeyInAStepSaysWhichKeysAreAllowed() {
    assertEquals(
        List.of(
            "grange.builders.linux-amd64.steps[0].timout: unknown key"
                + " (allowed: args, cmd, dir, env, name, sys, timeout)"),
        stepProblems("name = make, cmd = make, timout = 10m"));
  }

  @Test
  void unknownKeyInABuilderOrRepoIsRefused() {
    List<String> problems =
        builderProblems(
            "host-type = linux-amd64-local, hosttype = x, steps = [ { name = s, cmd = c } ],"
                + " repos = [ { repo = go, branch = [master] } ]");

    assertEquals(
        List.of(
            "grange.builders.linux-amd64.hosttype: unknown key"
                + " (allowed: host-type, notes, repos, steps)",
            "grange.builders.linux-amd64.repos[0].branch: unknown key (allowed: branches, repo)",
            "grange.builders.linux-amd64.repos[0].branches: missing required key (e.g. [master])"),
        problems);
  }

  @Test
  void emptyStepCmdIsRefused() {
    assertEquals(
        List.of("grange.builders.linux-amd64.steps[0].cmd: must not be empty"),
        stepProblems("name = make, cmd = \"\""));
    assertEquals(
        List.of("grange.builders.linux-amd64.steps[0].cmd: must not be empty"),
        stepProblems("name = make, cmd = \"   \""));
  }

  @Test
  void envEntryThatIsNotKeyEqualsValueIsRefused() {
    assertEquals(
        List.of(
            "grange.builders.linux-amd64.steps[0].env[1]: must be NAME=VALUE, got \"GOOS\"",
            "grange.builders.linux-amd64.steps[0].env[2]: must be NAME=VALUE, got \"=linux\""),
        stepProblems("name = make, cmd = make, env = [\"GOARCH=arm64\", GOOS, \"=linux\", \"EMPTY=\"]"));
  }

  @Test
  void kubernetesEnvEntryIsCheckedToo() {
    assertEquals(
        List.of("grange.hosts.k.kubernetes.env[0]: must be NAME=VALUE, got \"GOCACHE\""),
        problems("grange.hosts.k { pool = kubernetes, kubernetes { image = i, env = [GOCACHE] } }"));
  }

  @Test
  void absoluteStepDirIsRefused() {
    assertEquals(
        List.of(
            "grange.builders.linux-amd64.steps[0].dir: must be relative to the buildlet work"
                + " directory, got \"/tmp\""),
        stepProblems("name = make, cmd = make, dir = \"/tmp\""));
    assertHasProblemStartingWith(
        stepProblems("name = make, cmd = make, dir = \"C:\\\\go\""),
        "grange.builders.linux-amd64.steps[0].dir: must be relative");
  }

  @Test
  void stepDirWithDotDotIsRefused() {
    assertHasProblemStartingWith(
        stepProblems("name = make, cmd = make, dir = \"../elsewhere\""),
        "grange.builders.linux-amd64.steps[0].dir: must not contain \"..\"");
    assertHasProblemStartingWith(
        stepProblems("name = make, cmd = make, dir = \"src/../../x\""),
        "grange.builders.linux-amd64.steps[0].dir: must not contain \"..\"");
    assertHasProblemStartingWith(
        stepProblems("name = make, cmd = make, dir = \"\""),
        "grange.builders.linux-amd64.steps[0].dir: must not be empty");
  }

  @Test
  void stepDirWithDotsInsideANameIsAccepted() {
    FarmConfig farm =
        FarmConfig.fromConfig(
            ConfigFactory.parseString(
                HOSTS
                    + "grange.builders.b { host-type = linux-arm64-lab, steps = [ { name = s, cmd = c, dir = \"go..src/x\" } ] }"));

    assertEquals("go..src/x", farm.builder("b").orElseThrow().steps().get(0).dir());
  }

  @Test
  void duplicateStepNameIsRefused() {
    assertEquals(
        List.of(
            "grange.builders.linux-amd64.steps[1].name: duplicate step name \"make\" (also steps[0])"),
        builderProblems(
            "host-type = linux-amd64-local, steps = [ { name = make, cmd = a }, { name = make, cmd = b } ]"));
  }

  @Test
  void localPoolCapacityIsChecked() {
    List<String> problems =
        problems(
            """
            grange.hosts {
              none { pool = local }
              zero { pool = local, local { max = 0 } }
              upside-down { pool = local, local { min = 5, max = 4 } }
            }
            """);

    assertEquals(
        List.of(
            "grange.hosts.none.local: missing required key (pool = local needs e.g. local { max = 4 })",
            "grange.hosts.upside-down.local.min: must be between 0 and max (4), got 5",
            "grange.hosts.zero.local.max: must be at least 1, got 0"),
        problems);
  }

  @Test
  void poolBlockOfAnotherKindIsRefused() {
    assertEquals(
        List.of(
            "grange.hosts.lab.local: only allowed with pool = local (this host type has pool = reverse)"),
        problems("grange.hosts.lab { pool = reverse, local { max = 2 } }"));
  }

  @Test
  void kubernetesAndGceRequiredKeysAreChecked() {
    List<String> problems =
        problems(
            """
            grange.hosts {
              pods { pool = kubernetes, kubernetes { cpu = "2" } }
              vms { pool = gce, gce { disk-gb = 0, zones = [] } }
            }
            """);

    assertEquals(
        List.of(
            "grange.hosts.pods.kubernetes.image: missing required key (the container image that runs the agent)",
            "grange.hosts.vms.gce.machine-type: missing required key (e.g. e2-standard-8)",
            "grange.hosts.vms.gce.image: missing required key (the boot image that runs the agent)",
            "grange.hosts.vms.gce.zones: must name at least one zone, got []",
            "grange.hosts.vms.gce.disk-gb: must be at least 1, got 0"),
        problems);
  }

  @Test
  void aGceMachineTypeWhoseNameDoesNotSayItsVcpusNeedsThemSet() {
    assertEquals(
        List.of("grange.hosts.gpu.gce.cpus: missing required key (the machine type a2-highgpu-1g does not say its vCPUs: set them)"),
        problems("grange.hosts.gpu { pool = gce, gce { machine-type = a2-highgpu-1g, image = img, zones = [z] } }"));
    FarmConfig set = FarmConfig.fromConfig(ConfigFactory.parseString(
        "grange.hosts.gpu { pool = gce, gce { machine-type = a2-highgpu-1g, image = img, zones = [z], cpus = 12 } }").resolve());
    assertEquals(12, set.host("gpu").orElseThrow().gce().cpus());
  }

  @Test
  void sectionThatIsNotAnObjectIsRefused() {
    assertEquals(
        List.of("grange.hosts: must be an object of host types by name, got [\"a\"]"),
        problems("grange.hosts = [a]"));
    assertEquals(
        List.of("grange.hosts.h: must be an object (a host type), got \"reverse\""),
        problems("grange.hosts.h = reverse"));
  }

  @Test
  void brokenHostTypeIsNotReportedAgainByItsBuilders() {
    assertEquals(
        List.of("grange.hosts.h.pool: unknown pool kind \"local-ish\" (known: reverse, local, kubernetes, gce)"),
        problems(
            "grange.hosts.h { pool = local-ish }\n"
                + "grange.builders.b { host-type = h, steps = [ { name = s, cmd = c } ] }"));
  }

  @Test
  void severalErrorsAreAllReportedAtOnce() {
    InvalidConfigException e =
        assertThrows(
            InvalidConfigException.class,
            () ->
                FarmConfig.fromConfig(
                    ConfigFactory.parseString(
                        """
                        grange.hosts {
                          linux-amd64-local { pool = local, local { max = 4 } }
                          lab { pool = revrese, expcted = 3 }
                        }
                        grange.builders {
                          linux-amd64 {
                            host-type = linux-amd64-locl
                            steps = [ { name = make, cmd = "", timeout = -5s, env = [GOOS], dir = "/abs" } ]
                          }
                          empty { host-type = lab, steps = [] }
                        }
                        """)));

    List<String> expected =
        List.of(
            "grange.hosts.lab.expcted: unknown key (allowed: boot-timeout, cost, expected, gce,"
                + " hermetic, kubernetes, local, notes, pool)",
            "grange.hosts.lab.pool: unknown pool kind \"revrese\" (known: reverse, local, kubernetes, gce)",
            "grange.builders.empty.steps: a builder needs at least one step, got []",
            "grange.builders.linux-amd64.host-type: unknown host type \"linux-amd64-locl\""
                + " (known: lab, linux-amd64-local)",
            "grange.builders.linux-amd64.steps[0].cmd: must not be empty",
            "grange.builders.linux-amd64.steps[0].env[0]: must be NAME=VALUE, got \"GOOS\"",
            "grange.builders.linux-amd64.steps[0].dir: must be relative to the buildlet work"
                + " directory, got \"/abs\"",
            "grange.builders.linux-amd64.steps[0].timeout: must be a positive duration like 10m,"
                + " got \"-5s\"");
    assertEquals(expected, e.problems());
    assertEquals(
        "Invalid builder and host-type config, 8 problems:\n" + String.join("\n", expected),
        e.getMessage());
  }
}
