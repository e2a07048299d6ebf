package dev.grange.protocol.schedule;

import static dev.grange.protocol.schedule.PriorityClass.INTERACTIVE;
import static dev.grange.protocol.schedule.PriorityClass.POST_SUBMIT;
import static dev.grange.protocol.schedule.PriorityClass.RELEASE;
import static dev.grange.protocol.schedule.PriorityClass.TRY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SchedItemOrderTest {
  private static SchedItem item(
      PriorityClass cls, long requestedAt, long commitTime, String branch, String id) {
    return new SchedItem(cls, requestedAt, commitTime, branch, id);
  }

  private static List<SchedItem> sorted(SchedItem... items) {
    List<SchedItem> list = new ArrayList<>(List.of(items));
    list.sort(SchedItem.ORDER);
    return list;
  }

  private static List<String> ids(List<SchedItem> items) {
    return items.stream().map(SchedItem::buildId).toList();
  }

  @Test
  void classesAreServedReleaseThenInteractiveThenTryThenPostSubmit() {
    // Request times run against the class order, so FIFO alone would give the reverse.
    List<SchedItem> order =
        sorted(
            item(RELEASE, 400, 0, "release-branch.go1.22", "release"),
            item(INTERACTIVE, 300, 0, "", "gomote"),
            item(TRY, 200, 9_000, "master", "try"),
            item(POST_SUBMIT, 100, 10_000, "master", "post"));

    assertEquals(List.of("release", "gomote", "try", "post"), ids(order));
  }

  @ParameterizedTest
  @EnumSource(names = {"RELEASE", "INTERACTIVE", "TRY"})
  void waitingPeopleAreServedFirstComeFirstServed(PriorityClass cls) {
    // Commit times and branches must not matter outside post-submit.
    List<SchedItem> order =
        sorted(
            item(cls, 300, 9_000, "release-branch.go1.22", "third"),
            item(cls, 100, 1_000, "master", "first"),
            item(cls, 200, 5_000, "master", "second"));

    assertEquals(List.of("first", "second", "third"), ids(order));
  }

  @Test
  void postSubmitRunsNewestCommitFirst() {
    // Request times run against commit times: the newest commit wins even when asked for last.
    List<SchedItem> order =
        sorted(
            item(POST_SUBMIT, 100, 1_000, "master", "old"),
            item(POST_SUBMIT, 300, 3_000, "master", "new"),
            item(POST_SUBMIT, 200, 2_000, "master", "mid"));

    assertEquals(List.of("new", "mid", "old"), ids(order));
  }

  @Test
  void releaseBranchWinsTieOnEqualCommitTime() {
    SchedItem master = item(POST_SUBMIT, 100, 5_000, "master", "a-master");
    SchedItem release = item(POST_SUBMIT, 200, 5_000, "release-branch.go1.22", "z-release");

    // Both directions, so a helper that looks at one side only (golang/build's bug) would fail.
    assertTrue(SchedItem.ORDER.compare(release, master) < 0);
    assertTrue(SchedItem.ORDER.compare(master, release) > 0);
    assertEquals(List.of("z-release", "a-master"), ids(sorted(master, release)));
  }

  @Test
  void releaseBranchDoesNotBeatANewerCommit() {
    List<SchedItem> order =
        sorted(
            item(POST_SUBMIT, 100, 4_000, "release-branch.go1.22", "release"),
            item(POST_SUBMIT, 200, 5_000, "master", "master"));

    assertEquals(List.of("master", "release"), ids(order));
  }

  @Test
  void onlyRealReleaseBranchesCount() {
    assertTrue(item(POST_SUBMIT, 0, 0, "release-branch.go1.22", "a").onReleaseBranch());
    assertFalse(item(POST_SUBMIT, 0, 0, "master", "a").onReleaseBranch());
    assertFalse(item(POST_SUBMIT, 0, 0, "release-branchy", "a").onReleaseBranch());
    assertFalse(item(POST_SUBMIT, 0, 0, "dev.release-branch.x", "a").onReleaseBranch());
  }

  @Test
  void fullTiesFallBackToRequestTimeThenBuildId() {
    List<SchedItem> order =
        sorted(
            item(POST_SUBMIT, 200, 5_000, "master", "a"),
            item(POST_SUBMIT, 100, 5_000, "master", "c"),
            item(POST_SUBMIT, 100, 5_000, "master", "b"));

    assertEquals(List.of("b", "c", "a"), ids(order));
  }

  @Test
  void sortingAShuffledQueueAlwaysGivesTheSameOrder() {
    List<SchedItem> items = randomItems(new Random(7), 300);
    List<SchedItem> expected = new ArrayList<>(items);
    expected.sort(SchedItem.ORDER);

    for (long seed = 0; seed < 50; seed++) {
      List<SchedItem> shuffled = new ArrayList<>(items);
      Collections.shuffle(shuffled, new Random(seed));
      shuffled.sort(SchedItem.ORDER);
      assertEquals(expected, shuffled, "shuffle seed " + seed);
    }
  }

  @Test
  void orderIsAntisymmetricTransitiveAndConsistentWithEquals() {
    // Few distinct values, so that ties on every field are common.
    List<SchedItem> items = randomItems(new Random(42), 120);
    for (SchedItem a : items) {
      for (SchedItem b : items) {
        int ab = Integer.signum(SchedItem.ORDER.compare(a, b));
        int ba = Integer.signum(SchedItem.ORDER.compare(b, a));
        assertEquals(-ba, ab, () -> a + " vs " + b);
        assertEquals(a.equals(b), ab == 0, () -> a + " vs " + b);
        for (SchedItem c : items) {
          if (ab <= 0 && SchedItem.ORDER.compare(b, c) <= 0) {
            assertTrue(SchedItem.ORDER.compare(a, c) <= 0, () -> a + " <= " + b + " <= " + c);
          }
        }
      }
    }
  }

  @Test
  void itemSurvivesAJacksonRoundTrip() throws Exception {
    ObjectMapper json = new ObjectMapper();
    SchedItem item = item(POST_SUBMIT, 1, 2, "release-branch.go1.22", "b-1");

    assertEquals(item, json.readValue(json.writeValueAsBytes(item), SchedItem.class));
  }

  private static List<SchedItem> randomItems(Random random, int n) {
    PriorityClass[] classes = PriorityClass.values();
    String[] branches = {"master", "release-branch.go1.21", "release-branch.go1.22", "dev.x"};
    List<SchedItem> items = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      items.add(
          item(
              classes[random.nextInt(classes.length)],
              random.nextInt(4),
              random.nextInt(4),
              branches[random.nextInt(branches.length)],
              "b" + random.nextInt(4)));
    }
    return items;
  }
}
