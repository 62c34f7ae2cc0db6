package dev.torchlight.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.torchlight.api.DataType;
import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.ConfigException;
import dev.torchlight.metrics.ModelStats;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The runtime over the real libtorch engine and the fixture repository: inference, versions, errors. */
class TorchlightTest {
    private static Torchlight torchlight;

    @BeforeAll
    static void open() {
        torchlight = Torchlight.builder(Fixtures.models()).models("mlp", "two_io").intraOpThreads(1).open();
    }

    @AfterAll
    static void close() {
        torchlight.close();
    }

    @Test
    void opensTheNamedModelsReadyAndReportsHowTheyLoaded() {
        assertThat(torchlight.models()).containsExactly("mlp", "two_io");
        assertThat(torchlight.ready()).isTrue();
        assertThat(torchlight.loadOutcomes()).allSatisfy(o -> assertThat(o.ok()).as(o.failures().toString()).isTrue());
        assertThat(torchlight.model("mlp").ready()).isTrue();
        assertThat(torchlight.model("mlp").served().version()).isEqualTo(2);
    }

    @Test
    void floatConvenienceAnswersAsTheTensorRequestDoes() {
        float[] row = Fixtures.mlpRow(1);
        float[] viaFloats = torchlight.model("mlp").infer(row).join();
        InferenceResponse viaTensors = torchlight.model("mlp").infer(tensor("input", row, 1, 64)).join();

        assertThat(viaFloats).hasSize(2);
        assertThat(viaTensors.model()).isEqualTo("mlp");
        assertThat(viaTensors.outputs()).singleElement().satisfies(t -> {
            assertThat(t.name()).isEqualTo("output");
            assertThat(t.shape()).containsExactly(1, 2);
        });
        assertThat(floats(viaTensors.outputs().getFirst())).containsExactly(viaFloats);
    }

    @Test
    void severalRowsInOneArrayAreAnsweredRowByRow() {
        Model mlp = torchlight.model("mlp");
        float[] rows = new float[3 * 64];
        float[] expected = new float[3 * 2];
        for (int r = 0; r < 3; r++) {
            System.arraycopy(Fixtures.mlpRow(r), 0, rows, r * 64, 64);
            System.arraycopy(mlp.infer(Fixtures.mlpRow(r)).join(), 0, expected, r * 2, 2);
        }
        assertThat(mlp.infer(rows).join()).containsExactly(expected, within(1e-5f));
    }

    @Test
    void aVersionHandleRunsThatVersionAndTheModelHandleTheDefault() {
        InferenceRequest request = new InferenceRequest("r1", List.of(tensor("input", Fixtures.mlpRow(2), 1, 64)),
                List.of(), 0, 0);
        InferenceResponse latest = torchlight.model("mlp").infer(request).join();
        InferenceResponse first = torchlight.model("mlp").version(1).infer(request).join();

        assertThat(latest.version()).isEqualTo(2);
        assertThat(latest.id()).isEqualTo("r1");
        assertThat(first.version()).isEqualTo(1);
        assertThat(torchlight.model("mlp").version(1).pinnedVersion()).hasValue(1);
        assertThat(floats(first.outputs().getFirst())).isNotEqualTo(floats(latest.outputs().getFirst()));
    }

    @Test
    void requestsFromManyThreadsAreAllAnsweredAndCounted() {
        Model mlp = torchlight.model("mlp");
        long before = mlp.stats().successCount();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<CompletableFuture<float[]>> answers = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                int seed = i;
                answers.add(CompletableFuture.supplyAsync(() -> mlp.infer(Fixtures.mlpRow(seed)), pool)
                        .thenCompose(f -> f));
            }
            assertThat(answers).allSatisfy(a -> assertThat(a.join()).hasSize(2));
        } finally {
            pool.shutdown();
        }
        ModelStats.Snapshot stats = mlp.stats();
        assertThat(stats.successCount() - before).isEqualTo(400);
        assertThat(stats.failCount()).isZero();
        assertThat(stats.requestLatency()).as("histograms are kept by default").isNotNull();
    }

    @Test
    void failuresCompleteTheFutureAndSayWhatWasExpected() {
        assertThat(torchlight.model("nope").infer(Fixtures.mlpRow(0)))
                .failsWithin(java.time.Duration.ofSeconds(10)).withThrowableThat()
                .havingCause().isInstanceOf(ServingException.NotFound.class).withMessageContaining("nope");
        assertThat(torchlight.model("mlp").version(9).infer(Fixtures.mlpRow(0)))
                .failsWithin(java.time.Duration.ofSeconds(10)).withThrowableThat()
                .havingCause().isInstanceOf(ServingException.NotFound.class).withMessageContaining("no version 9");
        assertThat(torchlight.model("mlp").infer(new float[65]))
                .failsWithin(java.time.Duration.ofSeconds(10)).withThrowableThat()
                .havingCause().isInstanceOf(ServingException.InvalidInput.class)
                .withMessageContaining("not a whole number of rows").withMessageContaining("64 values each");
        assertThat(torchlight.model("two_io").infer(new float[4]))
                .failsWithin(java.time.Duration.ofSeconds(10)).withThrowableThat()
                .havingCause().isInstanceOf(ServingException.InvalidInput.class)
                .withMessageContaining("needs one FP32 input and one FP32 output");
        assertThat(torchlight.model("nope").ready()).isFalse();
        assertThatThrownBy(() -> torchlight.model("nope").reload()).isInstanceOf(ServingException.NotFound.class)
                .hasMessageContaining("load() it first");
    }

    @Test
    void aModelWithSeveralInputsTakesTensors() {
        float[] a = {1, 2, 3, 4};
        float[] b = {2, 2, 2, 2};
        InferenceResponse response = torchlight.model("two_io")
                .infer(tensor("a", a, 1, 4), tensor("b", b, 1, 4)).join();
        assertThat(response.outputs()).extracting(Tensor::name).containsExactly("sum", "prod");
    }

    @Test
    void openingAMissingRepositoryOrModelNamesIt() {
        assertThatThrownBy(() -> Torchlight.open(Fixtures.models().resolve("absent")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("absent").hasMessageContaining("not a directory");
        assertThatThrownBy(() -> Torchlight.builder(Fixtures.models()).models("absent").open())
                .isInstanceOf(ConfigException.class).hasMessageContaining("[absent] not found");
        assertThatThrownBy(() -> Torchlight.builder(Fixtures.models()).intraOpThreads(2)
                .engine(new dev.torchlight.engine.libtorch.LibTorchEngine()).open())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("configure the threads on that engine");
    }

    static Tensor tensor(String name, float[] values, long... shape) {
        ByteBuffer data = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        data.asFloatBuffer().put(values);
        return new Tensor(name, DataType.FP32, shape, data);
    }

    static float[] floats(Tensor tensor) {
        float[] values = new float[(int) tensor.elementCount()];
        tensor.data().asFloatBuffer().get(values);
        return values;
    }

}
