package dev.torchlight.registry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.config.ModelConfig;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** How a model routes requests that name no version when it has a traffic split. */
class ServedModelRoutingTest {
    /** A version that runs nothing, ready or not as the test sets it. */
    static final class Version implements StandInVersion {
        private final long version;
        private final String name;
        volatile boolean ready;

        Version(long version, String name, boolean ready) {
            this.version = version;
            this.name = name;
            this.ready = ready;
        }

        @Override
        public String model() {
            return "m";
        }

        @Override
        public long version() {
            return version;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public ModelConfig config() {
            return null;
        }

        @Override
        public ModelState state() {
            return ready ? ModelState.READY : ModelState.FAILED;
        }

        @Override
        public String error() {
            return null;
        }

        @Override
        public CompletableFuture<InferenceResponse> infer(InferenceRequest request) {
            throw new UnsupportedOperationException();
        }
    }

    static ServedModel model(Version... versions) {
        NavigableMap<Long, ServedVersion> map = new TreeMap<>();
        for (Version v : versions) {
            map.put(v.version(), v);
        }
        return new ServedModel("m", null, map, null, null);
    }

    private static TrafficSplit weights(int w1, int w2, String sticky) {
        return new TrafficSplit(new TreeMap<>(Map.of(1L, w1, 2L, w2)), sticky);
    }

    private final Version one = new Version(1, "1", true);
    private final Version two = new Version(2, "2", true);
    private final Version three = new Version(3, "3", true);

    @Test
    void withoutASplitEveryRequestGoesToTheDefaultVersion() {
        ServedModel model = model(one, two, three);
        for (int i = 0; i < 100; i++) {
            assertThat(model.route(null, RequestHeaders.NONE)).isSameAs(three);
        }
        assertThat(model.effectiveTraffic()).isEmpty();
    }

    @Test
    void randomDrawsFollowTheWeights() {
        ServedModel model = model(one, two, three).withTraffic(weights(90, 10, null));
        int[] counts = new int[4];
        for (int i = 0; i < 10_000; i++) {
            counts[(int) model.route(null, RequestHeaders.NONE).version()]++;
        }
        assertThat(counts[3]).isZero();
        assertThat(counts[1]).isBetween(8_800, 9_200);
        assertThat(counts[1] + counts[2]).isEqualTo(10_000);
    }

    @Test
    void aRequestThatNamesAVersionIsNotSplit() {
        ServedModel model = model(one, two, three).withTraffic(weights(50, 50, null));
        for (int i = 0; i < 100; i++) {
            assertThat(model.route(3L, RequestHeaders.NONE)).isSameAs(three);
        }
    }

    @Test
    void theStickyHeaderKeepsACallerOnOneVersionAndCallersSpread() {
        ServedModel model = model(one, two).withTraffic(weights(50, 50, "x-user-id"));
        int onOne = 0;
        for (int user = 0; user < 200; user++) {
            String key = "user-" + user;
            RequestHeaders headers = name -> name.equals("x-user-id") ? key : null;
            ServedVersion first = model.route(null, headers);
            for (int i = 0; i < 20; i++) {
                assertThat(model.route(null, headers)).isSameAs(first);
            }
            onOne += first == one ? 1 : 0;
        }
        assertThat(onOne).isBetween(60, 140);
    }

    @Test
    void aVersionThatIsNotReadyTakesNoTrafficUntilItRecovers() {
        ServedModel model = model(one, two).withTraffic(weights(50, 50, null));
        two.ready = false;
        for (int i = 0; i < 1000; i++) {
            assertThat(model.route(null, RequestHeaders.NONE)).isSameAs(one);
        }
        assertThat(model.effectiveTraffic()).containsExactly(Map.entry(1L, 50), Map.entry(2L, 0));
        two.ready = true;
        boolean sawTwo = false;
        for (int i = 0; i < 1000 && !sawTwo; i++) {
            sawTwo = model.route(null, RequestHeaders.NONE) == two;
        }
        assertThat(sawTwo).isTrue();
    }

    @Test
    void withNoWeightedVersionReadyRoutingFallsBackToTheDefault() {
        ServedModel model = model(one, two, three).withTraffic(weights(50, 50, null));
        one.ready = false;
        two.ready = false;
        assertThat(model.route(null, RequestHeaders.NONE)).isSameAs(three);
    }

    @Test
    void theSplitSurvivesChangesThatKeepItsVersionsAndLosesWeightsOfRemovedOnes() {
        ServedModel model = model(one, two, three).withTraffic(weights(90, 10, "x-user-id"));
        assertThat(model.withDefault(1L).traffic()).isEqualTo(model.traffic());
        assertThat(model.without(2).traffic().weights()).containsExactly(Map.entry(1L, 90));
        assertThat(model.without(2).traffic().stickyHeader()).isEqualTo("x-user-id");
        assertThat(model.without(1).without(2).traffic()).isNull();
        assertThat(model.withTraffic(null).traffic()).isNull();
    }
}
