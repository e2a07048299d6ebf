package dev.grange.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grange.node.store.BuildIndex;
import dev.grange.protocol.model.BuilderSpec;
import dev.grange.protocol.model.StepSpec;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The grid from index rows: newest commit first, the newest try of a builder wins its cell, 30 commits a page, builders by OS and arch. */
class DashboardGridTest {
  private static final List<BuilderSpec> BUILDERS = List.of(builder("windows-test", "windows-amd64"), builder("linux-arm", "linux-arm64"),
      builder("linux-b", "linux-amd64"), builder("linux-a", "linux-amd64"));

  @Test
  void commitsComeNewestFirstAndTheNewestTryOfABuilderWinsItsCell() {
    List<BuildIndex.Entry> rows = List.of(
        row("c2", 200, "linux-a", 10, "b3", "running"),
        row("c1", 100, "linux-a", 5, "b1", "failed"),
        row("c1", 100, "linux-a", 9, "b2", "ok"),
        row("c1", 100, "linux-b", 6, "b4", "queued"));

    JsonNode g = DashboardGrid.json("r", "main", 1, rows, List.of(new BuildIndex.RepoBranch("r", "main", 1)), BUILDERS);

    assertEquals("c2", g.get("commits").get(0).get("rev").asText());
    assertEquals("running", g.get("commits").get(0).get("cells").get("linux-a").get("state").asText());
    JsonNode c1 = g.get("commits").get(1).get("cells");
    assertEquals("b2", c1.get("linux-a").get("buildId").asText());
    assertEquals("/builds/b2", c1.get("linux-a").get("url").asText());
    assertEquals("queued", c1.get("linux-b").get("state").asText());
    assertFalse(c1.has("windows-test"));
  }

  @Test
  void buildersAreGroupedByOsThenArchThenName() {
    JsonNode g = DashboardGrid.json("r", "main", 1, List.of(), List.of(), BUILDERS);
    List<String> order = new ArrayList<>();
    g.get("builders").forEach(b -> order.add(b.get("os").asText() + "/" + b.get("arch").asText() + " " + b.get("name").asText()));
    assertEquals(List.of("linux/amd64 linux-a", "linux/amd64 linux-b", "linux/arm64 linux-arm", "windows/amd64 windows-test"), order);
  }

  @Test
  void thirtyCommitsAPageAndTheLastPageSaysSo() {
    List<BuildIndex.Entry> rows = new ArrayList<>();
    for (int i = 0; i < 45; i++) {
      rows.add(row("c" + (100 - i), 1000 - i, "linux-a", 1, "b" + i, "ok"));
    }
    JsonNode first = DashboardGrid.json("r", "main", 1, rows, List.of(), BUILDERS);
    JsonNode second = DashboardGrid.json("r", "main", 2, rows, List.of(), BUILDERS);
    assertEquals(30, first.get("commits").size());
    assertTrue(first.get("hasMore").asBoolean());
    assertEquals(15, second.get("commits").size());
    assertEquals("c70", second.get("commits").get(0).get("rev").asText());
    assertFalse(second.get("hasMore").asBoolean());
  }

  private static BuildIndex.Entry row(String rev, long commitTime, String builder, long submitted, String id, String state) {
    return new BuildIndex.Entry("r", "main", commitTime, rev, builder, submitted, id, state, "subject of " + rev);
  }

  private static BuilderSpec builder(String name, String hostType) {
    return new BuilderSpec(name, hostType, List.of(), List.of(new StepSpec("s", "/bin/true", List.of(), List.of(), ".", 1000, true)), "");
  }

  @Test
  void anAuthorIsShownByNameOnly() {
    assertEquals("Ada Lovelace", DashboardGrid.authorName("Ada Lovelace <ada@example.com>"));
    assertEquals("ada", DashboardGrid.authorName("ada"));
    assertEquals("", DashboardGrid.authorName(""));
  }
}
