package dev.torchlight.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.tuple;

import dev.torchlight.api.DataType;
import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.registry.FakeEngine.FakeModel;
import dev.torchlight.repository.ModelRepository;
import dev.torchlight.repository.ModelSource;
import dev.torchlight.scheduler.NanoClock;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ModelManagerTest {
    /** Batched, two inputs (one fixed, one variable length), two outputs. */
    private static final String ADDER = """
            name: %s
            platform: torchscript
            max_batch_size: 4
            inputs:
              - {name: a, datatype: FP32, shape: [2]}
              - {name: b, datatype: FP32, shape: [-1]}
            outputs:
              - {name: a_out, datatype: FP32, shape: [2]}
              - {name: b_out, datatype: FP32, shape: [-1]}
            """;

    /** No batch dimension. */
    private static final String PLAIN = """
            name: plain
            platform: torchscript
            max_batch_size: 0
            inputs:
              - {name: m, datatype: FP32, shape: [2, -1]}
            outputs:
              - {name: m_out, datatype: FP32, shape: [2, -1]}
            """;

    /** Batched, one scalar per item. */
    private static final String SCALAR = """
            name: scalar
            platform: torchscript
            max_batch_size: 8
            inputs:
              - {name: s, datatype: INT64, shape: []}
            outputs:
              - {name: s_out, datatype: INT64, shape: []}
            """;

    @TempDir
    Path repo;

    private final FakeEngine engine = new FakeEngine();
    private ModelManager registry;
    private ModelService routes;

    /** A request for a model version, as a front end resolves it. */
    private record Call(String model, Long version, InferenceRequest request) {}

    private void model(String name, String config, String... versionFiles) throws IOException {
        Path dir = Files.createDirectories(repo.resolve(name));
        Files.writeString(dir.resolve(ModelSource.CONFIG_FILE), config);
        for (int i = 0; i < versionFiles.length; i++) {
            Path v = Files.createDirectories(dir.resolve(Integer.toString(i + 1)));
            if (versionFiles[i] != null) {
                Files.writeString(v.resolve(ModelSource.MODEL_FILE), versionFiles[i]);
            }
        }
    }

    @BeforeEach
    void repository() throws IOException {
        model("adder", ADDER.formatted("adder"), "1", "10");
        model("plain", PLAIN, "100");
        model("scalar", SCALAR, "0");
        model("broken", ADDER.formatted("broken") + "colour: blue\n", "1");
        model("badload", ADDER.formatted("badload"), "fail: corrupt archive");
        model("empty", ADDER.formatted("empty"));
        model("rollback", ADDER.formatted("rollback"), "1", "fail: bad weights");
        model("recovered", ADDER.formatted("recovered"), "fail: bad weights", "1");
        model("nofile", ADDER.formatted("nofile"), (String) null);
    }

    private ModelService registry(String... names) {
        manager();
        registry.loadAll(new ModelRepository(repo).scan(List.of(names)));
        return routes;
    }

    private void manager() {
        registry = new ModelManager(engine, NanoClock.SYSTEM, LoadOptions.SERVING.withoutWarmUp());
        routes = registry.routes();
    }

    private CompletableFuture<InferenceResponse> infer(Call call) {
        return FrontEnd.infer(routes, call.model(), call.version(), call.request());
    }

    /** Every version of every model, as listings show them. */
    private List<ServedVersion> versions() {
        return routes.models().stream().flatMap(m -> m.listed().stream()).toList();
    }

    @AfterEach
    void close() {
        if (registry != null) {
            registry.close();
        }
    }

    private static Tensor fp32(String name, long[] shape, float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return new Tensor(name, DataType.FP32, shape, b.flip());
    }

    private static Tensor zeros(String name, DataType type, long... shape) {
        long count = Arrays.stream(shape).reduce(1, Math::multiplyExact);
        return new Tensor(name, type, shape, ByteBuffer.allocate((int) count * type.byteSize()));
    }

    private static float[] floats(Tensor t) {
        ByteBuffer b = t.data();
        float[] out = new float[b.remaining() / 4];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.getFloat();
        }
        return out;
    }

    private static Call request(String model, Long version, List<String> outputs, Tensor... inputs) {
        return new Call(model, version, new InferenceRequest("req-1", List.of(inputs), outputs, 0, 0));
    }

    private static Call request(String model, Tensor... inputs) {
        return request(model, null, List.of(), inputs);
    }

    /** A valid adder request with batch size 1. */
    private static Call adderRequest(Long version) {
        return request("adder", version, List.of(),
                fp32("a", new long[] {1, 2}, 1, 2), fp32("b", new long[] {1, 3}, 3, 4, 5));
    }

    private static InferenceResponse success(CompletableFuture<InferenceResponse> future) throws Exception {
        return future.get(10, TimeUnit.SECONDS);
    }

    private static <T extends ServingException> T failure(CompletableFuture<?> future, Class<T> type) {
        Throwable thrown = catchThrowable(() -> future.get(10, TimeUnit.SECONDS));
        assertThat(thrown).isInstanceOf(ExecutionException.class);
        assertThat(thrown.getCause()).isInstanceOf(type);
        return type.cast(thrown.getCause());
    }

    /** The request is refused before it reaches a worker. */
    private String invalid(Call request) {
        CompletableFuture<InferenceResponse> future = infer(request);
        assertThat(future).isCompletedExceptionally();
        String message = failure(future, ServingException.InvalidInput.class).getMessage();
        assertThat(engine.loaded).allSatisfy(m -> assertThat(m.calls).hasValue(0));
        return message;
    }

    private FakeModel loadedWithDelta(float delta) {
        return engine.loaded.stream().filter(m -> m.delta == delta).findFirst().orElseThrow();
    }

    // --- readiness and description

    @Test
    void readyWhenEveryModelsNewestVersionIsReady() {
        assertThat(registry("adder", "plain", "scalar").ready()).isTrue();
    }

    @Test
    void emptyRegistryIsNotReady() {
        manager();
        assertThat(routes.ready()).isFalse();
        assertThat(routes.models()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"broken", "badload", "empty", "nofile"})
    void notReadyWhileAnyModelHasNoReadyVersion(String bad) {
        assertThat(registry("adder", bad).ready()).isFalse();
    }

    @Test
    void aFailedNewestVersionLeavesTheOlderOneServingAsDefault() {
        assertThat(registry("adder", "rollback").ready()).isTrue();
        assertThat(routes.model("rollback").defaultServed().version()).isEqualTo(1L);
        assertThat(routes.resolve("rollback", 2L).state()).isEqualTo(ModelState.FAILED);
    }

    @Test
    void anOlderFailedVersionDoesNotMakeTheServerUnready() {
        assertThat(registry("adder", "recovered").ready()).isTrue();
    }

    @Test
    void modelsListsEveryVersionWithStateAndReason() {
        registry("adder", "broken", "badload", "empty", "rollback", "nofile");

        List<ServedVersion> all = versions();

        assertThat(all).extracting(ServedVersion::model, ServedVersion::version, ServedVersion::state)
                .containsExactly(
                        tuple("adder", 1L, ModelState.READY),
                        tuple("adder", 2L, ModelState.READY),
                        tuple("badload", 1L, ModelState.FAILED),
                        tuple("broken", 1L, ModelState.FAILED),
                        tuple("empty", 0L, ModelState.FAILED),
                        tuple("nofile", 1L, ModelState.FAILED),
                        tuple("rollback", 1L, ModelState.READY),
                        tuple("rollback", 2L, ModelState.FAILED));
        ServedVersion adder = all.get(1);
        assertThat(adder.ready()).isTrue();
        assertThat(adder.error()).isNull();
        assertThat(routes.model("adder").versionNumbers()).containsExactly(1L, 2L);
        assertThat(adder.config().name()).isEqualTo("adder");
        assertThat(adder.config().inputs()).extracting(s -> s.name()).containsExactly("a", "b");

        assertThat(all.get(2).error()).contains("corrupt archive");
        assertThat(all.get(2).config()).isNotNull();
        assertThat(all.get(3).config()).isNull();
        assertThat(all.get(3).error())
                .contains(repo.resolve("broken").resolve("config.yaml").toString())
                .contains("key 'colour'");
        assertThat(all.get(4).error()).contains("no version folders");
        assertThat(routes.model("empty").versionNumbers()).isEmpty();
        assertThat(all.get(5).error()).contains("model.pt").contains("not found");
        assertThat(all.get(7).error()).contains("bad weights");
    }

    @Test
    void describeDefaultsToTheNewestReadyVersion() {
        registry("adder", "rollback", "empty");

        assertThat(routes.resolve("adder", null).version()).isEqualTo(2);
        assertThat(routes.resolve("adder", 1L).version()).isEqualTo(1);
        ServedVersion rollback = routes.resolve("rollback", null);
        assertThat(rollback.version()).isEqualTo(1);
        assertThat(rollback.ready()).isTrue();
        assertThat(routes.resolve("rollback", 2L).ready()).isFalse();
        ServedVersion empty = routes.resolve("empty", null);
        assertThat(empty.state()).isEqualTo(ModelState.FAILED);
        assertThat(empty.error()).contains("no version folders");
    }

    @Test
    void describeUnknownModelOrVersion() {
        registry("adder");
        assertThatThrownBy(() -> routes.resolve("bert", null))
                .isInstanceOf(ServingException.NotFound.class)
                .hasMessageContaining("'bert'")
                .hasMessageContaining("[adder]");
        assertThatThrownBy(() -> routes.resolve("adder", 7L))
                .isInstanceOf(ServingException.NotFound.class)
                .hasMessageContaining("no version 7")
                .hasMessageContaining("[1, 2]");
    }

    // --- inference

    @Test
    void inferRunsTheNewestVersionAndReturnsOutputsNamedInDeclaredOrder() throws Exception {
        registry("adder");
        // Inputs sent out of declared order: the registry must hand them to the engine as (a, b).
        InferenceResponse response = success(infer(request("adder", null, List.of(),
                fp32("b", new long[] {1, 3}, 3, 4, 5), fp32("a", new long[] {1, 2}, 1, 2))));

        assertThat(response.model()).isEqualTo("adder");
        assertThat(response.version()).isEqualTo(2);
        assertThat(response.id()).isEqualTo("req-1");
        assertThat(response.outputs()).extracting(Tensor::name).containsExactly("a_out", "b_out");
        assertThat(floats(response.outputs().get(0))).containsExactly(11f, 12f);
        assertThat(response.outputs().get(0).shape()).containsExactly(1, 2);
        assertThat(floats(response.outputs().get(1))).containsExactly(13f, 14f, 15f);
    }

    @Test
    void variableDimensionsAndBatchesUpToTheMaximum() throws Exception {
        registry("adder");
        InferenceResponse response = success(infer(request("adder",
                fp32("a", new long[] {4, 2}, 1, 2, 3, 4, 5, 6, 7, 8), fp32("b", new long[] {4, 1}, 0, 0, 0, 0))));

        assertThat(floats(response.outputs().get(0))).containsExactly(11, 12, 13, 14, 15, 16, 17, 18);
        assertThat(response.outputs().get(1).shape()).containsExactly(4, 1);
    }

    @Test
    void explicitVersionPicksThatVersion() throws Exception {
        registry("adder");

        InferenceResponse v1 = success(infer(adderRequest(1L)));
        InferenceResponse v2 = success(infer(adderRequest(2L)));

        assertThat(v1.version()).isEqualTo(1);
        assertThat(floats(v1.outputs().get(0))).containsExactly(2f, 3f);
        assertThat(v2.version()).isEqualTo(2);
        assertThat(floats(v2.outputs().get(0))).containsExactly(11f, 12f);
    }

    @Test
    void requestedOutputSubset() throws Exception {
        registry("adder");
        InferenceResponse response = success(infer(request("adder", null, List.of("b_out"),
                fp32("a", new long[] {1, 2}, 1, 2), fp32("b", new long[] {1, 1}, 5))));

        assertThat(response.outputs()).extracting(Tensor::name).containsExactly("b_out");
        assertThat(floats(response.outputs().get(0))).containsExactly(15f);
    }

    @Test
    void unbatchedModelTakesTheDeclaredShapeAsIs() throws Exception {
        registry("plain");
        InferenceResponse response = success(infer(request("plain",
                fp32("m", new long[] {2, 3}, 1, 2, 3, 4, 5, 6))));

        assertThat(response.outputs().get(0).shape()).containsExactly(2, 3);
        assertThat(floats(response.outputs().get(0))).containsExactly(101, 102, 103, 104, 105, 106);
    }

    @Test
    void batchedScalarInput() throws Exception {
        registry("scalar");
        InferenceResponse response = success(infer(request("scalar", zeros("s", DataType.INT64, 3))));
        assertThat(response.outputs().get(0).shape()).containsExactly(3);
    }

    // --- validation

    @Test
    void unknownInput() {
        registry("adder");
        assertThat(invalid(request("adder", fp32("a", new long[] {1, 2}, 1, 2), fp32("b", new long[] {1, 1}, 1),
                fp32("c", new long[] {1, 1}, 1))))
                .contains("unknown input 'c'")
                .contains("'adder'")
                .contains("a (FP32 [2]), b (FP32 [-1])");
    }

    @Test
    void missingInput() {
        registry("adder");
        assertThat(invalid(request("adder", fp32("a", new long[] {1, 2}, 1, 2))))
                .contains("missing input 'b'")
                .contains("a (FP32 [2]), b (FP32 [-1])");
    }

    @Test
    void duplicateInput() {
        registry("adder");
        assertThat(invalid(request("adder", fp32("a", new long[] {1, 2}, 1, 2), fp32("a", new long[] {1, 2}, 1, 2),
                fp32("b", new long[] {1, 1}, 1))))
                .contains("input 'a' is given more than once");
    }

    @Test
    void wrongDatatype() {
        registry("adder");
        assertThat(invalid(request("adder", zeros("a", DataType.FP64, 1, 2), fp32("b", new long[] {1, 1}, 1))))
                .contains("input 'a'")
                .contains("expected datatype FP32, got FP64");
    }

    @Test
    void wrongRank() {
        registry("adder");
        assertThat(invalid(request("adder", fp32("a", new long[] {2}, 1, 2), fp32("b", new long[] {1, 1}, 1))))
                .contains("input 'a'")
                .contains("shape [2] does not match the expected shape [batch, 2]");
        assertThat(invalid(request("adder", fp32("a", new long[] {1, 2}, 1, 2), zeros("b", DataType.FP32, 1, 1, 1))))
                .contains("input 'b'")
                .contains("shape [1, 1, 1] does not match the expected shape [batch, -1]");
        assertThat(invalid(request("adder", zeros("a", DataType.FP32), fp32("b", new long[] {1, 1}, 1))))
                .contains("input 'a'")
                .contains("shape []");
    }

    @Test
    void wrongDimension() {
        registry("adder");
        assertThat(invalid(request("adder", fp32("a", new long[] {1, 3}, 1, 2, 3), fp32("b", new long[] {1, 1}, 1))))
                .contains("input 'a'")
                .contains("shape [1, 3] does not match the expected shape [batch, 2]");
    }

    @Test
    void unbatchedModelRejectsABatchDimension() {
        registry("plain");
        assertThat(invalid(request("plain", zeros("m", DataType.FP32, 1, 2, 3))))
                .contains("input 'm'")
                .contains("shape [1, 2, 3] does not match the expected shape [2, -1]");
        assertThat(invalid(request("plain", zeros("m", DataType.FP32, 3, 3))))
                .contains("expected shape [2, -1]");
    }

    @Test
    void batchedScalarModelNamesTheBatchShape() {
        registry("scalar");
        assertThat(invalid(request("scalar", zeros("s", DataType.INT64))))
                .contains("input 's'")
                .contains("shape [] does not match the expected shape [batch] ");
        assertThat(invalid(request("scalar", zeros("s", DataType.INT64, 2, 1))))
                .contains("expected shape [batch] ");
    }

    @Test
    void batchSizeZero() {
        registry("adder");
        assertThat(invalid(request("adder", zeros("a", DataType.FP32, 0, 2), zeros("b", DataType.FP32, 0, 1))))
                .contains("input 'a'")
                .contains("batch size 0 is outside 1..4");
    }

    @Test
    void batchSizeAboveMaximum() {
        registry("adder");
        assertThat(invalid(request("adder", zeros("a", DataType.FP32, 5, 2), zeros("b", DataType.FP32, 5, 1))))
                .contains("input 'a'")
                .contains("batch size 5 is outside 1..4")
                .contains("max_batch_size");
    }

    @Test
    void differentBatchSizesAcrossInputs() {
        registry("adder");
        assertThat(invalid(request("adder", zeros("a", DataType.FP32, 2, 2), zeros("b", DataType.FP32, 3, 1))))
                .contains("input 'b' has batch size 3 but input 'a' has 2");
    }

    @Test
    void unknownRequestedOutput() {
        registry("adder");
        assertThat(invalid(request("adder", null, List.of("a_out", "z"),
                fp32("a", new long[] {1, 2}, 1, 2), fp32("b", new long[] {1, 1}, 1))))
                .isEqualTo("model 'adder' has no output 'z'; its outputs are [a_out, b_out]");
    }

    // --- lookup and failures

    @Test
    void unknownModelIsNotFound() {
        registry("adder");
        assertThat(failure(infer(request("bert", fp32("a", new long[] {1, 2}, 1, 2))),
                ServingException.NotFound.class))
                .hasMessageContaining("unknown model 'bert'")
                .hasMessageContaining("[adder]");
    }

    @Test
    void unknownVersionIsNotFound() {
        registry("adder");
        assertThat(failure(infer(adderRequest(3L)), ServingException.NotFound.class))
                .hasMessageContaining("'adder' has no version 3")
                .hasMessageContaining("[1, 2]");
    }

    @Test
    void failedLoadIsNotReadyWithTheReason() {
        registry("adder", "badload");
        assertThat(failure(infer(request("badload", null, List.of())), ServingException.NotReady.class))
                .hasMessageContaining("'badload' version 1 is not ready")
                .hasMessageContaining("corrupt archive");
    }

    @Test
    void brokenConfigIsNotReadyWithTheReason() {
        registry("broken");
        assertThat(failure(infer(request("broken", null, List.of())), ServingException.NotReady.class))
                .hasMessageContaining("'broken'")
                .hasMessageContaining("key 'colour'");
    }

    @Test
    void modelWithoutVersionsIsNotReady() {
        registry("empty");
        assertThat(failure(infer(request("empty", null, List.of())), ServingException.NotReady.class))
                .hasMessageContaining("'empty' is not ready")
                .hasMessageContaining("no version folders");
    }

    @Test
    void failedNewestVersionIsNotReadyButAnOlderOneServes() throws Exception {
        registry("rollback");
        Call newest = request("rollback", 2L, List.of(),
                fp32("a", new long[] {1, 2}, 1, 2), fp32("b", new long[] {1, 1}, 1));
        assertThat(failure(infer(newest), ServingException.NotReady.class))
                .hasMessageContaining("'rollback' version 2 is not ready")
                .hasMessageContaining("bad weights");

        InferenceResponse v1 = success(infer(request("rollback", 1L, List.of(),
                fp32("a", new long[] {1, 2}, 1, 2), fp32("b", new long[] {1, 1}, 1))));
        assertThat(floats(v1.outputs().get(0))).containsExactly(2f, 3f);
    }

    @Test
    void brokenModelsDoNotAffectTheOthers() throws Exception {
        registry("adder", "broken", "badload", "empty", "rollback", "nofile");

        assertThat(routes.resolve("adder", null).ready()).isTrue();
        InferenceResponse response = success(infer(adderRequest(null)));
        assertThat(floats(response.outputs().get(0))).containsExactly(11f, 12f);
    }

    @Test
    void engineFailureIsInternalWithTheEngineMessageAndTheModelKeepsServing() throws Exception {
        registry("adder");
        FakeModel v2 = loadedWithDelta(10);
        v2.failNext.set("CUDA out of memory while running forward");

        assertThat(failure(infer(adderRequest(null)), ServingException.Internal.class))
                .hasMessageContaining("adder/2")
                .hasMessageContaining("CUDA out of memory while running forward");

        InferenceResponse after = success(infer(adderRequest(null)));
        assertThat(floats(after.outputs().get(0))).containsExactly(11f, 12f);
        assertThat(v2.calls).hasValue(2);
    }

    @Test
    void statisticsCountRequestsRowsAndRunsPerVersion() throws Exception {
        registry("adder");
        success(infer(request("adder",
                fp32("a", new long[] {4, 2}, 1, 2, 3, 4, 5, 6, 7, 8), fp32("b", new long[] {4, 1}, 0, 0, 0, 0))));
        success(infer(adderRequest(null)));
        loadedWithDelta(10).failNext.set("boom");
        failure(infer(adderRequest(null)), ServingException.Internal.class);
        failure(infer(request("adder", fp32("a", new long[] {1, 3}, 1, 2, 3))), ServingException.InvalidInput.class);

        var stats = routes.resolve("adder", 2L).stats();
        assertThat(stats.successCount()).isEqualTo(2);
        assertThat(stats.failCount()).as("engine failures count; requests refused before the queue do not").isEqualTo(1);
        assertThat(stats.inferenceCount()).as("rows of successful runs").isEqualTo(5);
        assertThat(stats.executionCount()).isEqualTo(2);
        assertThat(stats.queueCount()).isEqualTo(3);
        assertThat(stats.successNs()).isPositive();
        assertThat(stats.lastInferenceMillis()).isPositive();
        assertThat(routes.resolve("adder", 1L).stats().successCount()).isZero();
    }

    @Test
    void unexpectedEngineCrashIsInternalWithoutLeakingDetails() throws Exception {
        registry("adder");
        loadedWithDelta(10).crashNext.set(new IllegalStateException("secret native detail"));

        ServingException e = failure(infer(adderRequest(null)), ServingException.Internal.class);
        assertThat(e).hasMessageContaining("internal error").hasMessageNotContaining("secret");
        assertThat(success(infer(adderRequest(null))).outputs()).hasSize(2);
    }

    @Test
    void closeReleasesEveryLoadedModel() {
        registry("adder", "plain", "rollback", "badload");
        List<FakeModel> models = new ArrayList<>(engine.loaded);
        assertThat(models).hasSize(4); // adder 1 and 2, plain 1, rollback 1
        assertThat(models).noneMatch(m -> m.closed);

        registry.close();

        assertThat(models).allMatch(m -> m.closed);
        assertThat(routes.ready()).isFalse();
        assertThat(failure(infer(adderRequest(null)), ServingException.NotFound.class)).isNotNull();
        registry = null;
    }
}
