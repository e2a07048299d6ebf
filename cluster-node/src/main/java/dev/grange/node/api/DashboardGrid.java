package dev.grange.node.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.grange.node.store.BuildIndex;
import dev.grange.protocol.model.BuilderSpec;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The dashboard's JSON from index rows: commits newest first, {@link #PAGE_SIZE} a page; columns
 * are the builders, grouped by OS and architecture (the first two parts of the host type's name,
 * {@code linux-amd64-bullseye} → {@code linux}/{@code amd64}); a cell is the newest build of that
 * builder at that commit.
 */
public final class DashboardGrid {
  public static final int PAGE_SIZE = 30;

  private DashboardGrid() {}

  /** {@code rows} newest commit first (as the index returns them); {@code page} from 1. */
  public static ObjectNode json(String repo, String branch, int page, List<BuildIndex.Entry> rows, List<BuildIndex.RepoBranch> repos,
      java.util.Collection<BuilderSpec> builders) {
    Map<String, Map<String, BuildIndex.Entry>> byCommit = new LinkedHashMap<>();
    Map<String, BuildIndex.Entry> firstOfCommit = new LinkedHashMap<>();
    for (BuildIndex.Entry e : rows) {
      firstOfCommit.putIfAbsent(e.rev(), e);
      Map<String, BuildIndex.Entry> cells = byCommit.computeIfAbsent(e.rev(), k -> new LinkedHashMap<>());
      BuildIndex.Entry had = cells.get(e.builder());
      if (had == null || e.submittedAtMs() > had.submittedAtMs()) {
        cells.put(e.builder(), e);
      }
    }
    List<String> commits = new ArrayList<>(byCommit.keySet());
    int from = (page - 1) * PAGE_SIZE;
    ObjectNode o = ApiErrors.JSON.createObjectNode();
    o.put("repo", repo);
    o.put("branch", branch);
    o.put("page", page);
    o.put("pageSize", PAGE_SIZE);
    o.put("hasMore", commits.size() > from + PAGE_SIZE);
    ArrayNode rs = o.putArray("repos");
    Map<String, List<String>> branches = new TreeMap<>();
    for (BuildIndex.RepoBranch r : repos) {
      branches.computeIfAbsent(r.repo(), k -> new ArrayList<>()).add(r.branch());
    }
    branches.forEach((r, bs) -> {
      ObjectNode n = rs.addObject();
      n.put("repo", r);
      ArrayNode a = n.putArray("branches");
      bs.stream().sorted().forEach(a::add);
    });
    ArrayNode bs = o.putArray("builders");
    builders.stream()
        .sorted(Comparator.comparing((BuilderSpec b) -> os(b.hostType())).thenComparing(b -> arch(b.hostType())).thenComparing(BuilderSpec::name))
        .forEach(b -> {
          ObjectNode n = bs.addObject();
          n.put("name", b.name());
          n.put("hostType", b.hostType());
          n.put("os", os(b.hostType()));
          n.put("arch", arch(b.hostType()));
        });
    ArrayNode cs = o.putArray("commits");
    for (String rev : commits.subList(Math.min(from, commits.size()), Math.min(from + PAGE_SIZE, commits.size()))) {
      BuildIndex.Entry first = firstOfCommit.get(rev);
      ObjectNode c = cs.addObject();
      c.put("rev", rev);
      c.put("shortRev", rev.length() > 10 ? rev.substring(0, 10) : rev);
      c.put("author", authorName(first.author()));
      c.put("timeMs", first.commitTimeMs());
      c.put("subject", first.subject());
      ObjectNode cells = c.putObject("cells");
      byCommit.get(rev).forEach((builder, e) -> {
        ObjectNode x = cells.putObject(builder);
        x.put("state", e.state());
        x.put("buildId", e.buildId());
        x.put("url", "/builds/" + e.buildId());
        x.put("log", "/api/v1/builds/" + e.buildId() + "/log");
      });
    }
    return o;
  }

  /** "Name <email>" to "Name": the grid names people, it does not publish their addresses. */
  static String authorName(String author) {
    int lt = author.indexOf(" <");
    return (lt < 0 ? author : author.substring(0, lt)).strip();
  }

  static String os(String hostType) {
    String[] p = hostType.split("-");
    return p[0];
  }

  static String arch(String hostType) {
    String[] p = hostType.split("-");
    return p.length > 1 ? p[1] : "";
  }
}
