package dev.grange.node.source;

import static dev.grange.node.source.GitFixture.Node.executable;
import static dev.grange.node.source.GitFixture.Node.file;
import static dev.grange.node.source.GitFixture.Node.submodule;
import static dev.grange.node.source.GitFixture.Node.symlink;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grange.mirror.GitSsh;
import dev.grange.mirror.testing.GitSshServer;
import dev.grange.node.source.SourceException.Kind;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import java.nio.file.LinkOption;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

class SourcesTest {

  private static final long T1 = 1_700_000_000L;
  private static final long T2 = 1_700_003_600L;
  private static final String SUBMODULE_SHA = "0123456789abcdef0123456789abcdef01234567";

  @TempDir Path tmp;

  private GitFixture upstream;
  private ObjectId first;
  private ObjectId second;
  private Map<String, GitFixture.Node> secondTree;
  private byte[] big;
  private Sources sources;

  @BeforeEach
  void setUp() throws Exception {
    upstream = GitFixture.bare(tmp.resolve("upstream.git"), "trunk");
    first = upstream.commit("trunk", T1, "Add a readme\n\nLonger text.\n", Map.of("README.md", file("hello\n")));
    big = new byte[(1 << 20) + 12345]; // over TreeArchiver's 1 MiB streaming threshold
    new Random(42).nextBytes(big);
    secondTree = new LinkedHashMap<>();
    secondTree.put("README.md", file("hello again\n"));
    secondTree.put("bin/run.sh", executable("#!/bin/sh\necho run\n"));
    secondTree.put("src/deep/nested/Main.java", file("class Main {}\n"));
    secondTree.put("link", symlink("README.md"));
    secondTree.put("bin/up", symlink("../outside/target"));
    secondTree.put("third_party/sub", submodule(SUBMODULE_SHA));
    secondTree.put("long/" + "x".repeat(120) + ".txt", file("a long name\n"));
    secondTree.put("ünïcödé.txt", file("non-ascii name\n"));
    secondTree.put("big.bin", file(big));
    second = upstream.commit("trunk", T2, "Add the rest", secondTree);
    upstream.commit("feature", T2 + 60, "Work on a feature", Map.of("FEATURE", file("wip\n")));
    upstream.tag("v1.0", first, "Release 1.0");
    upstream.tag("light", second, null);
    sources = new Sources(tmp.resolve("cache"), Duration.ofMillis(300), Duration.ofSeconds(30));
  }

  @AfterEach
  void tearDown() {
    upstream.close();
  }

  private String local() {
    return upstream.dir.toString();
  }

  // ---- resolve

  @Test
  void fullShaResolvesToItsCommit() throws Exception {
    Sources.Commit c = sources.resolve(local(), second.name());
    assertEquals(new Sources.Commit(second.name(), T2 * 1000, "Ada Lovelace <ada@example.com>", "Add the rest"), c);
  }

  @Test
  void upperCaseFullShaResolvesToTheLowerCaseSha() throws Exception {
    assertEquals(second.name(), sources.resolve(local(), second.name().toUpperCase()).sha());
  }

  @Test
  void abbreviatedShaResolvesToTheFullSha() throws Exception {
    assertEquals(first.name(), sources.resolve(local(), first.name().substring(0, 8)).sha());
  }

  @Test
  void branchTagAndHeadResolveToTheirCommits() throws Exception {
    assertEquals(second.name(), sources.resolve(local(), "trunk").sha());
    assertEquals(second.name(), sources.resolve(local(), "refs/heads/trunk").sha());
    assertEquals(second.name(), sources.resolve(local(), "HEAD").sha());
    assertEquals(first.name(), sources.resolve(local(), "HEAD~1").sha());
    assertEquals(first.name(), sources.resolve(local(), "trunk^").sha());
    assertEquals(first.name(), sources.resolve(local(), "v1.0").sha(), "annotated tag peeled to its commit");
    assertEquals(second.name(), sources.resolve(local(), "light").sha());
  }

  @Test
  void commitRecordCarriesSubjectAuthorAndCommitTime() throws Exception {
    Sources.Commit c = sources.resolve(local(), "v1.0");
    assertEquals("Add a readme", c.subject());
    assertEquals("Ada Lovelace <ada@example.com>", c.author());
    assertEquals(T1 * 1000, c.commitTimeMs());
  }

  @Test
  void unknownRevIsUnknownRevNamingRepoAndRev() {
    for (String rev : List.of("no-such-branch", "deadbeef", "0000000000000000000000000000000000000000", "HEAD~5")) {
      SourceException e = assertKind(Kind.UNKNOWN_REV, () -> sources.resolve(local(), rev));
      assertTrue(e.getMessage().contains(rev) && e.getMessage().contains(local()), e.getMessage());
    }
  }

  @Test
  void revNamingATreeIsUnknownRev() throws Exception {
    upstream.tag("a-tree", upstream.treeOf(first), "tags a tree");
    SourceException e = assertKind(Kind.UNKNOWN_REV, () -> sources.resolve(local(), "a-tree"));
    assertTrue(e.getMessage().contains("tree"), e.getMessage());
  }

  @Test
  void revWithCharactersOutsideTheAllowedSetIsBadRev() {
    for (String rev : List.of("", "trunk; rm -rf /", "HEAD@{1}", "trunk:README.md", ":/Add", "a b", "trunk\n", "x".repeat(201))) {
      SourceException e = assertKind(Kind.BAD_REV, () -> sources.resolve(local(), rev));
      assertTrue(e.getMessage().contains(local()), e.getMessage());
    }
    assertKind(Kind.BAD_REV, () -> sources.resolve(local(), null));
  }

  @Test
  void revWithDotDotCannotReadAFileOutsideTheRepository() throws Exception {
    Files.writeString(tmp.resolve("planted"), first.name() + "\n");
    for (String rev : List.of("../planted", "refs/../../planted", "refs/heads/../../../planted")) {
      SourceException e = assertThrows(SourceException.class, () -> sources.resolve(local(), rev), rev);
      assertTrue(e.kind() == Kind.BAD_REV || e.kind() == Kind.UNKNOWN_REV, e.getMessage());
    }
  }

  @Test
  void directoryThatIsNotARepositoryIsBadRepo() throws Exception {
    Path plain = Files.createDirectories(tmp.resolve("plain"));
    SourceException e = assertKind(Kind.BAD_REPO, () -> sources.resolve(plain.toString(), "HEAD"));
    assertTrue(e.getMessage().contains(plain.toRealPath().toString()), e.getMessage());
  }

  @Test
  void subdirectoryOfAWorkingCloneIsBadRepo() throws Exception {
    try (GitFixture clone = GitFixture.workingClone(tmp.resolve("clone"))) {
      Path sub = Files.createDirectories(clone.dir.resolve("sub"));
      assertKind(Kind.BAD_REPO, () -> sources.resolve(sub.toString(), "HEAD"));
    }
  }

  @Test
  void stringsThatAreNeitherUrlsNorRepositoriesAreBadRepo() {
    for (String repo :
        List.of("", tmp.resolve("missing").toString(), "ftp://example.com/x.git", "ext::sh -c evil",
            "https:///no-host", "file://otherhost/srv/x.git", "git@github.com:")) {
      assertKind(Kind.BAD_REPO, () -> sources.resolve(repo, "HEAD"));
    }
  }

  @Test
  void workingCloneResolvesHeadAndArchives() throws Exception {
    try (GitFixture clone = GitFixture.workingClone(tmp.resolve("clone"))) {
      ObjectId c = clone.commit("main", T1, "Only commit", Map.of("a.txt", file("a\n")));
      assertEquals(c.name(), sources.resolve(clone.dir.toString(), "HEAD").sha());
      Map<String, Entry> tar = read(sources.archive(clone.dir.toString(), c.name()));
      assertEquals(List.of("a.txt"), List.copyOf(tar.keySet()));
    }
  }

  // ---- remotes

  @Test
  void fileUrlIsMirroredIntoTheCacheAndHeadFollowsTheRemoteDefaultBranch() throws Exception {
    assertEquals(second.name(), sources.resolve(upstream.url(), "trunk").sha());
    assertEquals(second.name(), sources.resolve(upstream.url(), "HEAD").sha());
    assertEquals(first.name(), sources.resolve(upstream.url(), "v1.0").sha());
    assertEquals(first.name(), sources.resolve(upstream.url(), first.name().substring(0, 10)).sha());
    try (Stream<Path> mirrors = Files.list(tmp.resolve("cache/mirrors"))) {
      List<Path> all = mirrors.toList();
      assertEquals(1, all.size(), all.toString());
      assertTrue(all.get(0).getFileName().toString().endsWith(".git"));
    }
  }

  @Test
  void newUpstreamCommitIsSeenAfterAFetch() throws Exception {
    assertEquals(second.name(), sources.resolve(upstream.url(), "trunk").sha());
    ObjectId third = upstream.commit("trunk", T2 + 120, "Third", Map.of("README.md", file("three\n")));
    // A sha the mirror lacks makes it fetch again (after the minimum interval) ...
    assertEquals(third.name(), sources.resolve(upstream.url(), third.name()).sha());
    // ... and that fetch moved the branch too.
    assertEquals(third.name(), sources.resolve(upstream.url(), "trunk").sha());
    assertEquals("three\n", text(read(sources.archive(upstream.url(), third.name())).get("README.md")));
  }

  @Test
  void branchMovesAreSeenAtOnceWithoutAMinimumInterval() throws Exception {
    Sources eager = new Sources(tmp.resolve("eager"), Duration.ZERO, Duration.ofSeconds(30));
    assertEquals(second.name(), eager.resolve(upstream.url(), "trunk").sha());
    ObjectId third = upstream.commit("trunk", T2 + 120, "Third", Map.of("README.md", file("three\n")));
    assertEquals(third.name(), eager.resolve(upstream.url(), "trunk").sha());
  }

  @Test
  void aRemoteIsNotFetchedAgainWithinTheMinimumInterval() throws Exception {
    Sources patient = new Sources(tmp.resolve("patient"), Duration.ofHours(1), Duration.ofSeconds(30));
    assertEquals(second.name(), patient.resolve(upstream.url(), "trunk").sha());
    upstream.commit("trunk", T2 + 120, "Third", Map.of("README.md", file("three\n")));
    assertEquals(second.name(), patient.resolve(upstream.url(), "trunk").sha(), "served from the mirror");
    assertEquals(first.name(), patient.resolve(upstream.url(), first.name()).sha(), "known sha, no fetch");
  }

  @Test
  void aFullShaIsReadFromTheLiveMirrorTheNodeKeepsWithoutFetchingIntoTheCache() throws Exception {
    // The live mirror (a configured repository's) is the upstream itself here; the URL it stands
    // for cannot be fetched, so anything read went through the live mirror.
    String url = "file:///nonexistent/known.git";
    Sources withKnown = new Sources(tmp.resolve("known"), Duration.ZERO, Duration.ofSeconds(30),
        u -> u.equals(url) ? java.util.Optional.of(upstream.dir) : java.util.Optional.empty());
    assertEquals("hello again\n", text(read(withKnown.archive(url, second.name())).get("README.md")));
    assertEquals(first.name(), withKnown.resolve(url, first.name()).sha());
    assertFalse(Files.exists(tmp.resolve("known/mirrors")), "nothing fetched into the cache");
    // A sha the live mirror lacks, or a branch (which must be fresh), goes to the cache's fetch.
    assertKind(Kind.REPO_UNREACHABLE, () -> withKnown.resolve(url, "0".repeat(40)));
    assertKind(Kind.REPO_UNREACHABLE, () -> withKnown.resolve(url, "trunk"));
  }

  @Test
  void aRemoteIsServedFromTheCacheFetchedAndItsOlderCopyWhenUpstreamIsGone() throws Exception {
    Sources eager = new Sources(tmp.resolve("eager"), Duration.ZERO, Duration.ofSeconds(30));
    Path moved = tmp.resolve("moved.git");
    String url = moved.toUri().toString();
    Files.move(upstream.dir, moved);
    try (org.eclipse.jgit.lib.Repository r = eager.openToServe(url)) {
      assertEquals(second.name(), r.exactRef("refs/heads/trunk").getObjectId().name());
    }
    Files.move(moved, upstream.dir);
    try (org.eclipse.jgit.lib.Repository r = eager.openToServe(url)) {
      assertEquals(second.name(), r.exactRef("refs/heads/trunk").getObjectId().name(), "upstream gone: the cached copy");
    }
    assertKind(Kind.REPO_UNREACHABLE, () -> eager.openToServe("file:///nonexistent/never.git").close());
    try (org.eclipse.jgit.lib.Repository r = eager.openToServe(local())) {
      assertEquals(second.name(), r.exactRef("refs/heads/trunk").getObjectId().name(), "a repository on disk, in place");
    }
  }

  @Test
  void anSshRemoteIsResolvedAndArchivedOverSshWithTheNodesKey() throws Exception {
    try (GitSshServer server = GitSshServer.start(tmp, tmp.resolve("keys"));
        GitSsh ssh = GitSsh.of(server.identity(), server.knownHosts(), true)) {
      String url = server.url("upstream.git");
      Sources overSsh = new Sources(tmp.resolve("ssh-cache"), Duration.ZERO, Duration.ofSeconds(30), Sources.KnownMirrors.NONE, ssh);
      assertEquals(second.name(), overSsh.resolve(url, "trunk").sha());
      Path archived = overSsh.archive(url, second.name());
      assertTrue(read(archived).containsKey("src/deep/nested/Main.java"), "the commit's tree, fetched over ssh");
      assertArrayEquals(Files.readAllBytes(sources.archive(local(), second.name())), Files.readAllBytes(archived),
          "the same bytes as the same commit read from disk");

      SourceException none = assertKind(Kind.REPO_UNREACHABLE, () -> sources.resolve(url, "trunk"));
      assertTrue(none.getMessage().contains("ssh is not configured on this node"), none.getMessage());
    }
  }

  @Test
  void anSshRemoteWhoseHostKeyIsNotKnownIsRefusedSayingSo() throws Exception {
    try (GitSshServer server = GitSshServer.start(tmp, tmp.resolve("keys"));
        GitSsh ssh = GitSsh.of(server.identity(), server.strangerKnownHosts(), true)) {
      Sources overSsh = new Sources(tmp.resolve("ssh-cache"), Duration.ZERO, Duration.ofSeconds(30), Sources.KnownMirrors.NONE, ssh);
      SourceException e = assertKind(Kind.REPO_UNREACHABLE, () -> overSsh.resolve(server.url("upstream.git"), "trunk"));
      assertTrue(e.getMessage().contains("host key is not in the known_hosts file"), e.getMessage());
    }
  }

  @Test
  void unknownRevOnARemoteIsUnknownRev() {
    SourceException e = assertKind(Kind.UNKNOWN_REV, () -> sources.resolve(upstream.url(), "no-such-branch"));
    assertTrue(e.getMessage().contains(upstream.url()), e.getMessage());
  }

  @Test
  void unreachableUrlIsRepoUnreachableAndLeavesNoMirror() throws Exception {
    SourceException e = assertKind(Kind.REPO_UNREACHABLE, () -> sources.resolve("file:///nonexistent/repo.git", "HEAD"));
    assertTrue(e.getMessage().contains("file:///nonexistent/repo.git"), e.getMessage());
    Path mirrors = tmp.resolve("cache/mirrors");
    if (Files.exists(mirrors)) {
      try (Stream<Path> left = Files.list(mirrors)) {
        assertEquals(List.of(), left.toList());
      }
    }
  }

  @Test
  void refusedConnectionIsRepoUnreachableWithoutLeakingThePassword() {
    SourceException e =
        assertKind(Kind.REPO_UNREACHABLE, () -> sources.resolve("http://bob:s3cret@127.0.0.1:1/x.git", "main"));
    assertTrue(e.getMessage().contains("http://bob:***@127.0.0.1:1/x.git"), e.getMessage());
    for (Throwable t = e; t != null; t = t.getCause()) {
      assertFalse(String.valueOf(t.getMessage()).contains("s3cret"), t.toString());
    }
  }

  // ---- archives

  @Test
  void archiveHoldsEveryBlobWithItsBytesModeAndSymlinks() throws Exception {
    Path archive = sources.archive(local(), second.name());
    Map<String, Entry> tar = read(archive);

    Map<String, Entry> files = new LinkedHashMap<>();
    tar.forEach((name, e) -> {
      if (!e.dir()) {
        files.put(name, e);
      }
    });
    List<String> expected = new ArrayList<>(secondTree.keySet());
    expected.remove("third_party/sub");
    assertEquals(expected.stream().sorted().toList(), files.keySet().stream().sorted().toList());
    for (String name : expected) {
      GitFixture.Node n = secondTree.get(name);
      Entry e = tar.get(name);
      if (n.mode().equals(FileMode.SYMLINK)) {
        assertTrue(e.symlink(), name);
        assertEquals(new String(n.content(), StandardCharsets.UTF_8), e.linkName(), name);
      } else {
        assertArrayEquals(n.content(), e.bytes(), name);
      }
    }
    assertEquals(0755, tar.get("bin/run.sh").mode() & 07777);
    assertEquals(0644, tar.get("README.md").mode() & 07777);
    assertEquals(0644, tar.get("big.bin").mode() & 07777);
    assertEquals(big.length, tar.get("big.bin").bytes().length);

    assertEquals(
        List.of("bin/", "long/", "src/", "src/deep/", "src/deep/nested/", "third_party/"),
        tar.values().stream().filter(Entry::dir).map(Entry::name).sorted().toList());
    assertFalse(tar.containsKey("third_party/sub"), "submodule skipped");

    List<String> names = List.copyOf(tar.keySet());
    for (int i = 0; i < names.size(); i++) {
      String name = names.get(i);
      assertFalse(name.startsWith("./") || name.startsWith("/"), name);
      int slash = name.lastIndexOf('/', name.length() - 2);
      if (slash > 0) {
        assertTrue(names.subList(0, i).contains(name.substring(0, slash + 1)), "directory before " + name);
      }
    }
    for (Entry e : tar.values()) {
      assertEquals(T2 * 1000, e.mtimeMs(), e.name());
      assertEquals(0, e.uid(), e.name());
      assertEquals(0, e.gid(), e.name());
    }
  }

  @Test
  void archiveOfTheSameCommitIsTheSameBytesFromAnyCacheAndAnyCopyOfTheRepo() throws Exception {
    Path a = sources.archive(local(), second.name());
    Path b = new Sources(tmp.resolve("other-cache")).archive(local(), second.name());
    Path c = sources.archive(upstream.url(), second.name());
    assertTrue(!a.equals(b) && !a.equals(c));
    assertEquals(-1, Files.mismatch(a, b));
    assertEquals(-1, Files.mismatch(a, c));
    assertEquals(a, sources.archive(local(), second.name()), "served from the cache");
  }

  @Test
  void archivesOverTheLimitGoLeastRecentlyServedFirstAndAreMadeAgainWhenAskedFor() throws Exception {
    Path a1 = sources.archive(local(), first.name());
    long one = Files.size(a1);
    Path a2 = sources.archive(local(), second.name());
    Files.setLastModifiedTime(a1, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 60_000));
    Files.setLastModifiedTime(a2, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 120_000));
    assertEquals(a1, sources.archive(local(), first.name()), "a hit marks the first as served now");
    ObjectId third = upstream.commit("trunk", T2 + 120, "A third", Map.of("README.md", file("three\n")));
    // Room for the first and the new one, not for the big second as well.
    sources.limitArchives(one * 2 + Files.size(a2) / 2);
    Path a3 = sources.archive(local(), third.name());
    assertTrue(Files.isRegularFile(a3), "the one just made stays");
    assertFalse(Files.exists(a2), "the least recently served went");
    assertTrue(Files.isRegularFile(a1), "the first was served after the second: it stays");
    Path again = sources.archive(local(), second.name());
    assertEquals(a2, again);
    assertEquals("hello again\n", text(read(again).get("README.md")), "made again, whole");
    assertThrows(IllegalArgumentException.class, () -> sources.limitArchives(0));
  }

  @Test
  void concurrentArchivesOfTheSameCommitGiveOneIntactFile() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Path>> results = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        results.add(pool.submit(() -> {
          go.await();
          return sources.archive(upstream.url(), second.name());
        }));
      }
      go.countDown();
      Path path = results.get(0).get(60, TimeUnit.SECONDS);
      for (Future<Path> f : results) {
        assertEquals(path, f.get(60, TimeUnit.SECONDS));
      }
      try (Stream<Path> dir = Files.list(path.getParent())) {
        assertEquals(List.of(path), dir.toList(), "one archive, no temporary files left");
      }
      assertArrayEquals(big, read(path).get("big.bin").bytes());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void tarExtractsTheArchiveWithModesAndSymlinks() throws Exception {
    Path archive = sources.archive(local(), second.name());
    Path out = Files.createDirectories(tmp.resolve("extracted"));
    Process p = new ProcessBuilder("tar", "-xzf", archive.toString(), "-C", out.toString())
        .redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), log);
    for (var e : secondTree.entrySet()) {
      Path f = out.resolve(e.getKey());
      GitFixture.Node n = e.getValue();
      if (n.mode().equals(FileMode.SYMLINK)) {
        assertEquals(new String(n.content(), StandardCharsets.UTF_8), Files.readSymbolicLink(f).toString());
      } else if (n.mode().equals(FileMode.GITLINK)) {
        assertFalse(Files.exists(f, LinkOption.NOFOLLOW_LINKS), e.getKey());
      } else {
        assertArrayEquals(n.content(), Files.readAllBytes(f), e.getKey());
        assertEquals(n.mode().equals(FileMode.EXECUTABLE_FILE), Files.isExecutable(f), e.getKey());
      }
    }
    assertEquals(T2 * 1000, Files.getLastModifiedTime(out.resolve("README.md")).toMillis());
  }

  @Test
  void archiveNeedsAFullShaOfACommitInTheRepo() {
    assertKind(Kind.BAD_REV, () -> sources.archive(local(), second.name().substring(0, 12)));
    assertKind(Kind.BAD_REV, () -> sources.archive(local(), "trunk"));
    assertKind(Kind.UNKNOWN_REV, () -> sources.archive(local(), "1111111111111111111111111111111111111111"));
    assertKind(Kind.BAD_REPO, () -> sources.archive(tmp.resolve("missing").toString(), second.name()));
  }

  // ---- helpers

  record Entry(String name, boolean dir, boolean symlink, String linkName, int mode, long mtimeMs, long uid, long gid, byte[] bytes) {}

  private static Map<String, Entry> read(Path archive) throws IOException {
    Map<String, Entry> out = new LinkedHashMap<>();
    try (InputStream in = Files.newInputStream(archive);
        TarArchiveInputStream tar = new TarArchiveInputStream(new GZIPInputStream(in), "UTF-8")) {
      TarArchiveEntry e;
      while ((e = tar.getNextEntry()) != null) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        tar.transferTo(bytes);
        Entry prev = out.put(e.getName(), new Entry(e.getName(), e.isDirectory(), e.isSymbolicLink(), e.getLinkName(),
            e.getMode(), e.getModTime().getTime(), e.getLongUserId(), e.getLongGroupId(), bytes.toByteArray()));
        assertEquals(null, prev, "duplicate entry " + e.getName());
      }
    }
    return out;
  }

  private static String text(Entry e) {
    return new String(e.bytes(), StandardCharsets.UTF_8);
  }

  private static SourceException assertKind(Kind kind, Executable call) {
    SourceException e = assertThrows(SourceException.class, call);
    assertEquals(kind, e.kind(), e.getMessage());
    return e;
  }
}
