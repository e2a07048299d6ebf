package dev.grange.bench.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class PercentilesTest {
  @Test
  void nearestRankOfOneToHundredIsTheRankItself() {
    List<Integer> v = new ArrayList<>();
    for (int i = 100; i >= 1; i--) {
      v.add(i);
    }
    Collections.shuffle(v);
    Percentiles p = Percentiles.of(v);
    assertEquals(50, p.p50());
    assertEquals(99, p.p99());
    assertEquals(100, p.at(100));
    assertEquals(1, p.at(0.5));
    assertEquals(50.5, p.mean());
  }

  @Test
  void percentilesAreMeasuredValuesNeverInterpolated() {
    Percentiles p = Percentiles.of(List.of(10.0, 20.0, 30.0, 40.0));
    assertEquals(20.0, p.p50());
    assertEquals(40.0, p.p99());
    assertEquals(10.0, p.min());
    assertEquals(40.0, p.max());
  }

  @Test
  void aSingleValueIsEveryPercentile() {
    Percentiles p = Percentiles.of(List.of(7));
    assertEquals(7, p.p50());
    assertEquals(7, p.p99());
  }

  @Test
  void p99OfAThousandIgnoresOnlyTheTenSlowest() {
    List<Integer> v = new ArrayList<>();
    for (int i = 1; i <= 1000; i++) {
      v.add(i);
    }
    assertEquals(990, Percentiles.of(v).p99());
    assertEquals(500, Percentiles.of(v).p50());
  }

  @Test
  void anEmptySampleOrABadRankIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> Percentiles.of(List.of()));
    assertThrows(IllegalArgumentException.class, () -> Percentiles.of(List.of(1)).at(0));
    assertThrows(IllegalArgumentException.class, () -> Percentiles.of(List.of(1)).at(101));
  }
}
