package dev.torchlight.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.api.ServingException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class TrafficSplitTest {
    private static TrafficSplit split(long v1, int w1, long v2, int w2) {
        return new TrafficSplit(new TreeMap<>(Map.of(v1, w1, v2, w2)), null);
    }

    @Test
    void pointsFallOnTheWeightRangesInVersionOrder() {
        TrafficSplit split = split(1, 90, 2, 10);
        assertThat(split.pick(v -> true, 0)).isEqualTo(1L);
        assertThat(split.pick(v -> true, 89)).isEqualTo(1L);
        assertThat(split.pick(v -> true, 90)).isEqualTo(2L);
        assertThat(split.pick(v -> true, 99)).isEqualTo(2L);
        assertThat(split.pick(v -> true, 100)).isEqualTo(1L);
        // Points are unsigned: the top of the range wraps like any other.
        assertThat(split.pick(v -> true, -1)).isEqualTo(Long.remainderUnsigned(-1, 100) < 90 ? 1L : 2L);
    }

    @Test
    void aVersionThatIsNotReadyTakesNothingAndTheOthersShareEverything() {
        TrafficSplit split = split(1, 90, 2, 10);
        for (long point = 0; point < 1000; point++) {
            assertThat(split.pick(v -> v != 1, point)).isEqualTo(2L);
        }
        assertThat(split.effective(v -> v != 1)).containsExactly(Map.entry(1L, 0), Map.entry(2L, 10));
        assertThat(split.effective(v -> true)).isEqualTo(split.weights());
    }

    @Test
    void noReadyWeightedVersionMeansDefaultRouting() {
        assertThat(split(1, 90, 2, 10).pick(v -> false, 5)).isNull();
        assertThat(split(1, 0, 2, 10).pick(v -> v == 1, 5)).isNull();
    }

    @Test
    void aZeroWeightVersionIsNeverPicked() {
        TrafficSplit split = split(1, 0, 2, 7);
        for (long point = 0; point < 100; point++) {
            assertThat(split.pick(v -> true, point)).isEqualTo(2L);
        }
    }

    @Test
    void theHashIsStableAndSpreadsSimilarKeys() {
        // Fixed values: a caller keeps its version across processes and releases.
        assertThat(TrafficSplit.hash("")).isEqualTo(TrafficSplit.hash(""));
        assertThat(TrafficSplit.hash("user-1")).isEqualTo(TrafficSplit.hash(new String("user-1")));
        assertThat(TrafficSplit.hash("user-1")).isNotEqualTo(TrafficSplit.hash("user-2"));
        TrafficSplit split = split(1, 50, 2, 50);
        int[] counts = new int[3];
        for (int i = 0; i < 10_000; i++) {
            counts[(int) (long) split.pick(v -> true, TrafficSplit.hash("user-" + i))]++;
        }
        assertThat(counts[1]).isBetween(4_800, 5_200);
    }

    @Test
    void theHashIsTheDocumentedOne() {
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c; the finalizer mixes it.
        long h = 0xaf63dc4c8601ec8cL;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        assertThat(TrafficSplit.hash("a")).isEqualTo(h);
    }

    @Test
    void weightsMustBeInRangeWithOnePositive() {
        assertThatThrownBy(() -> split(1, -1, 2, 10)).isInstanceOf(ServingException.InvalidInput.class)
                .hasMessageContaining("version 1 is -1").hasMessageContaining("from 0 to 1000000");
        assertThatThrownBy(() -> split(1, 0, 2, 0)).isInstanceOf(ServingException.InvalidInput.class)
                .hasMessageContaining("no version has a positive weight");
        assertThatThrownBy(() -> split(1, 1, 2, TrafficSplit.MAX_WEIGHT + 1))
                .hasMessageContaining("version 2 is 1000001");
    }

    @Test
    void theStickyHeaderIsAPlainTextHeaderKeptInLowerCase() {
        assertThat(new TrafficSplit(new TreeMap<>(Map.of(1L, 1)), "X-User-Id").stickyHeader()).isEqualTo("x-user-id");
        for (String bad : new String[] {"", " ", "x user", "x:y", "trace-bin", "é", "x".repeat(101)}) {
            assertThatThrownBy(() -> new TrafficSplit(new TreeMap<>(Map.of(1L, 1)), bad))
                    .as(bad).isInstanceOf(ServingException.InvalidInput.class)
                    .hasMessageContaining("expected 1 to 100 letters");
        }
    }

    @Test
    void keysAreVersionNamesOrNumbersOfThatModel() {
        ServedModel model = ServedModelRoutingTest.model(
                new ServedModelRoutingTest.Version(1, "1.0", true), new ServedModelRoutingTest.Version(2, "2", true));
        Map<String, Integer> weights = new LinkedHashMap<>();
        weights.put("1.0", 90);
        weights.put("2", 10);
        TrafficSplit split = TrafficSplit.of(model, weights, "x-user-id");
        assertThat(split.weights()).containsExactly(Map.entry(1L, 90), Map.entry(2L, 10));
        assertThat(TrafficSplit.of(model, Map.of("1", 100), null).weights()).containsExactly(Map.entry(1L, 100));

        assertThatThrownBy(() -> TrafficSplit.of(model, Map.of("3", 10), null))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessage("traffic for model 'm' names version '3', which it does not have; expected one of its"
                        + " versions [1.0, 2]");
        Map<String, Integer> twice = new LinkedHashMap<>();
        twice.put("1", 10);
        twice.put("1.0", 10);
        assertThatThrownBy(() -> TrafficSplit.of(model, twice, null))
                .hasMessage("traffic for model 'm' names version 1 twice ('1' and '1.0'); expected each version once");
        assertThatThrownBy(() -> TrafficSplit.of(model, Map.of(), null))
                .hasMessageStartingWith("traffic for model 'm' names no version");
        assertThatThrownBy(() -> TrafficSplit.of(model, Map.of("1", -5), null))
                .hasMessageStartingWith("traffic for model 'm': the weight of version 1 is -5");
    }

    @Test
    void versionsGoneFromTheModelLoseTheirWeight() {
        TrafficSplit split = split(1, 90, 2, 10);
        assertThat(split.restrictedTo(Set.of(1L, 2L, 3L))).isSameAs(split);
        assertThat(split.restrictedTo(new HashSet<>(Set.of(1L))).weights()).containsExactly(Map.entry(1L, 90));
        assertThat(split(1, 0, 2, 10).restrictedTo(Set.of(1L))).isNull();
        assertThat(split.restrictedTo(new HashMap<Long, Integer>().keySet())).isNull();
    }
}
