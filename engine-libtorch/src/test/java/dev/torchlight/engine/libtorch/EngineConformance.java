package dev.torchlight.engine.libtorch;

import static dev.torchlight.engine.libtorch.TestData.fixture;
import static dev.torchlight.engine.libtorch.TestData.floats;
import static dev.torchlight.engine.libtorch.TestData.fp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.torchlight.api.DataType;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.EngineSettings;
import dev.torchlight.config.HandlerSpec;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.engine.Engine;
import dev.torchlight.engine.EngineException;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.engine.Placement;
import dev.torchlight.engine.libtorch.TestData.Golden;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What every engine must do, run against each: every fixture and golden in {@code testdata/}, all
 * datatypes, several inputs and outputs, dict and non-contiguous outputs, inputs wherever they live,
 * bad files, inputs that do not fit the model, a forward that throws (also inside a helper method of a
 * frozen model), out of memory, and use after close.
 *
 * <p>One subclass per engine. Engines over different libtorch versions cannot share a process: give
 * each its own JVM then (surefire's {@code reuseForks=false}).
 */
abstract class EngineConformance {
    @TempDir
    Path tmp;

    /** The engine under test, one per test class. */
    abstract Engine engine();

    static Stream<Golden> goldens() throws IOException {
        return TestData.goldens();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldens")
    void matchesPyTorchOnEveryGolden(Golden golden) {
        ModelConfig config = TestData.config(golden.model());
        try (LoadedModel model = engine().load(config, TestData.modelFile(golden.model(), golden.version()),
                Placement.CPU)) {
            List<Tensor> outputs = model.infer(golden.inputs());

            assertThat(outputs).hasSameSizeAs(golden.outputs());
            for (int i = 0; i < outputs.size(); i++) {
                TestData.assertMatches(outputs.get(i), golden.outputs().get(i));
            }
        }
    }

    @Test
    void theGoldensCoverEveryDatatypeAndSeveralInputsAndOutputs() throws IOException {
        List<Golden> goldens = TestData.goldens().toList();
        List<DataType> covered = goldens.stream()
                .flatMap(g -> Stream.concat(g.inputs().stream(), g.outputs().stream()))
                .map(Tensor::dataType).distinct().toList();

        assertThat(covered).containsExactlyInAnyOrder(DataType.values());
        assertThat(goldens).anySatisfy(g -> {
            assertThat(g.inputs()).hasSizeGreaterThan(1);
            assertThat(g.outputs()).hasSizeGreaterThan(1);
        });
    }

    @Test
    void aMissingFileIsAnEngineExceptionNamingTheFile() {
        Path missing = tmp.resolve("mlp/1/model.pt");

        assertThatThrownBy(() -> engine().load(TestData.config("mlp"), missing, Placement.CPU))
                .isInstanceOf(EngineException.class)
                .hasMessageStartingWith("model 'mlp': ")
                .hasMessageContaining(missing.toString())
                .hasMessageContaining("does not exist");
    }

    @Test
    void aDirectoryIsNotAModelFile() {
        assertThatThrownBy(() -> engine().load(TestData.config("mlp"), tmp, Placement.CPU))
                .isInstanceOf(EngineException.class)
                .hasMessageContaining(tmp.toString())
                .hasMessageContaining("not a file");
    }

    @Test
    void aFileThatIsNotTorchScriptIsAnEngineExceptionNamingTheFile() throws IOException {
        Path garbage = Files.writeString(tmp.resolve("model.pt"), "this is not TorchScript");

        assertThatThrownBy(() -> engine().load(TestData.config("mlp"), garbage, Placement.CPU))
                .isInstanceOf(EngineException.class)
                .hasMessageStartingWith("model 'mlp': ")
                .hasMessageContaining(garbage.toString())
                .hasMessageContaining("TorchScript")
                .hasMessageNotContaining("\n");
    }

    @Test
    void aTruncatedFileIsAnEngineExceptionNamingTheFile() throws IOException {
        byte[] model = Files.readAllBytes(TestData.modelFile("mlp", 1));
        Path truncated = Files.write(tmp.resolve("model.pt"), Arrays.copyOf(model, model.length / 2));

        assertThatThrownBy(() -> engine().load(TestData.config("mlp"), truncated, Placement.CPU))
                .isInstanceOf(EngineException.class)
                .hasMessageContaining(truncated.toString());
    }

    @Test
    void anInputTheModelCannotTakeFailsThatCallOnly() {
        Golden golden = TestData.golden("mlp_v1");
        try (LoadedModel model = engine().load(TestData.config("mlp"), TestData.modelFile("mlp", 1), Placement.CPU)) {
            Tensor wrong = new Tensor("input", DataType.FP32, new long[] {1, 63}, ByteBuffer.allocate(63 * 4));

            assertThatThrownBy(() -> model.infer(List.of(wrong)))
                    .isInstanceOf(EngineException.class)
                    .hasMessageStartingWith("model 'mlp': ")
                    .hasMessageContaining("63")
                    .hasMessageNotContaining("\n");

            TestData.assertMatches(model.infer(golden.inputs()).get(0), golden.outputs().get(0));
        }
    }

    @Test
    void aForwardThatThrowsFailsOnlyItsCall() {
        ModelConfig config = pairs("raises");
        try (LoadedModel model = engine().load(config, fixture("raises.pt"), Placement.CPU)) {
            assertThatThrownBy(() -> model.infer(List.of(fp32("x", new long[] {2, 2}, 1, 2, -3, 4))))
                    .isInstanceOf(EngineException.class)
                    .hasMessageStartingWith("model 'raises': ")
                    .hasMessageContaining("negative input")
                    .hasMessageNotContaining("\n")
                    .satisfies(e -> assertThat(((EngineException) e).outOfMemory()).isFalse());

            assertThat(floats(model.infer(List.of(fp32("x", new long[] {2, 2}, 1, 2, 3, 4))).get(0)))
                    .containsExactly(2, 3, 4, 5);
        }
    }

    @Test
    void aForwardThatThrowsInsideAHelperMethodFailsOnlyItsCallAlsoAfterAReload() {
        // Freezing inlines the helper into forward and deletes it; the call stack of an error raised
        // there named the deleted method, which crashed the process once its memory was reused.
        ModelConfig config = new ModelConfig("raises_in_helper", "torchscript", 16,
                List.of(new TensorSpec("ids", DataType.INT64, new long[] {2})),
                List.of(new TensorSpec("y", DataType.FP32, new long[] {1})), null, List.of(), EngineSettings.DEFAULT,
                HandlerSpec.TENSOR);
        for (int load = 0; load < 3; load++) {
            try (LoadedModel model = engine().load(config, fixture("raises_in_helper.pt"), Placement.CPU)) {
                assertThat(model.infer(List.of(int64("ids", new long[] {2, 2}, 0, 1, 3, 2))).get(0).shape())
                        .containsExactly(2, 1);
                assertThatThrownBy(() -> model.infer(List.of(int64("ids", new long[] {2, 2}, 0, 1, 3, 7))))
                        .isInstanceOf(EngineException.class)
                        .hasMessageStartingWith("model 'raises_in_helper': ")
                        .hasMessageContaining("index out of range");
            }
        }
    }

    @Test
    void runningOutOfMemoryIsMarkedSoThatASmallerBatchIsTried() {
        ModelConfig config = pairs("oom_rows");
        try (LoadedModel model = engine().load(config, fixture("oom_rows.pt"), Placement.CPU)) {
            float[] eightRows = new float[16];
            Arrays.fill(eightRows, 1);
            EngineException oom = catchThrowableOfType(EngineException.class,
                    () -> model.infer(List.of(fp32("x", new long[] {8, 2}, eightRows))));

            assertThat(oom).isNotNull();
            assertThat(oom.outOfMemory()).as(oom.getMessage()).isTrue();
            assertThat(oom.getMessage()).startsWith("model 'oom_rows': ");
            assertThat(floats(model.infer(List.of(fp32("x", new long[] {2, 2}, 1, 2, 3, 4))).get(0)))
                    .as("half the batch, and half again, fit").containsExactly(2, 4, 6, 8);
        }
    }

    @Test
    void moreOutputsThanTheConfigDeclaresIsAnEngineException() {
        ModelConfig twoIo = TestData.config("two_io");
        ModelConfig oneOutput = new ModelConfig(twoIo.name(), twoIo.platform(), twoIo.maxBatchSize(),
                twoIo.inputs(), twoIo.outputs().subList(0, 1), null, List.of(), EngineSettings.DEFAULT, HandlerSpec.TENSOR);
        Golden golden = TestData.golden("two_io");
        try (LoadedModel model = engine().load(oneOutput, TestData.modelFile("two_io", 1), Placement.CPU)) {
            assertThatThrownBy(() -> model.infer(golden.inputs()))
                    .isInstanceOf(EngineException.class)
                    .hasMessage("model 'two_io' returned 2 outputs, its config declares 1");
        }
    }

    @Test
    void anOutputDatatypeOtherThanDeclaredIsAnEngineException() {
        ModelConfig mlp = TestData.config("mlp");
        ModelConfig fp64 = new ModelConfig(mlp.name(), mlp.platform(), mlp.maxBatchSize(), mlp.inputs(),
                List.of(new TensorSpec("output", DataType.FP64, new long[] {2})), null, List.of(),
                EngineSettings.DEFAULT, HandlerSpec.TENSOR);
        Golden golden = TestData.golden("mlp_v1");
        try (LoadedModel model = engine().load(fp64, TestData.modelFile("mlp", 1), Placement.CPU)) {
            assertThatThrownBy(() -> model.infer(golden.inputs()))
                    .isInstanceOf(EngineException.class)
                    .hasMessage("model 'mlp' returned output 'output' as FP32, its config declares FP64");
        }
    }

    @Test
    void dictOutputsAreMatchedByKey() {
        try (LoadedModel model = engine().load(dictModel("total", "negated", "double"), fixture("dict_out.pt"),
                Placement.CPU)) {
            List<Tensor> outputs = model.infer(List.of(fp32("x", new long[] {3}, 1, 2, 4)));

            assertThat(outputs).extracting(Tensor::name).containsExactly("total", "negated", "double");
            assertThat(outputs.get(0).shape()).isEmpty();
            assertThat(floats(outputs.get(0))).containsExactly(7f);
            assertThat(floats(outputs.get(1))).containsExactly(-1f, -2f, -4f);
            assertThat(floats(outputs.get(2))).containsExactly(2f, 4f, 8f);
        }
    }

    @Test
    void aDictWithoutADeclaredKeyIsAnEngineException() {
        try (LoadedModel model = engine().load(dictModel("double", "negated", "sum"), fixture("dict_out.pt"),
                Placement.CPU)) {
            assertThatThrownBy(() -> model.infer(List.of(fp32("x", new long[] {3}, 1, 2, 4))))
                    .isInstanceOf(EngineException.class)
                    .hasMessage("model 'dict_out' returned a dict without key 'sum';"
                            + " its keys are [double, negated, total]");
        }
    }

    @Test
    void aNonContiguousOutputComesBackInLogicalOrder() {
        ModelConfig config = new ModelConfig("transposed", "torchscript", 0,
                List.of(new TensorSpec("x", DataType.FP32, new long[] {2, 3})),
                List.of(new TensorSpec("y", DataType.FP32, new long[] {3, 2})), null, List.of(),
                EngineSettings.DEFAULT, HandlerSpec.TENSOR);
        try (LoadedModel model = engine().load(config, fixture("transposed.pt"), Placement.CPU)) {
            Tensor y = model.infer(List.of(fp32("x", new long[] {2, 3}, 1, 2, 3, 4, 5, 6))).get(0);

            assertThat(y.shape()).containsExactly(3, 2);
            assertThat(floats(y)).containsExactly(1f, 4f, 2f, 5f, 3f, 6f);
        }
    }

    @Test
    void heapDirectAndMisalignedInputsGiveTheSameResult() {
        Golden golden = TestData.golden("mlp_v1");
        Tensor input = golden.inputs().get(0);
        int bytes = input.data().remaining();
        ByteBuffer heap = ByteBuffer.allocate(bytes).put(input.data()).flip();
        ByteBuffer direct = ByteBuffer.allocateDirect(bytes).put(input.data()).flip();
        ByteBuffer misaligned = ByteBuffer.allocateDirect(bytes + 1).position(1).slice().put(input.data()).flip();
        try (LoadedModel model = engine().load(TestData.config("mlp"), TestData.modelFile("mlp", 1), Placement.CPU)) {
            for (ByteBuffer data : List.of(heap, direct, misaligned, heap)) {
                Tensor tensor = new Tensor("input", DataType.FP32, input.shape(), data);
                TestData.assertMatches(model.infer(List.of(tensor)).get(0), golden.outputs().get(0));
            }
        }
    }

    @Test
    void outputsStayValidAfterLaterCallsAndClose() {
        Golden golden = TestData.golden("mlp_v1");
        List<Tensor> first;
        try (LoadedModel model = engine().load(TestData.config("mlp"), TestData.modelFile("mlp", 1), Placement.CPU)) {
            first = model.infer(golden.inputs());
            model.infer(List.of(new Tensor("input", DataType.FP32, new long[] {2, 64}, ByteBuffer.allocate(2 * 64 * 4))));
        }
        TestData.assertMatches(first.get(0), golden.outputs().get(0));
    }

    @Test
    void aClosedModelRefusesCalls() {
        Golden golden = TestData.golden("mlp_v1");
        LoadedModel model = engine().load(TestData.config("mlp"), TestData.modelFile("mlp", 1), Placement.CPU);
        model.close();
        model.close();

        assertThatThrownBy(() -> model.infer(golden.inputs()))
                .isInstanceOf(EngineException.class)
                .hasMessage("model 'mlp' is closed");
    }

    @Test
    void instancesRunSideBySideOnTheirOwnThreads() throws Exception {
        Golden golden = TestData.golden("cnn");
        List<LoadedModel> instances = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                instances.add(engine().load(TestData.config("cnn"), TestData.modelFile("cnn", 1), Placement.CPU));
            }
            List<Thread> threads = new ArrayList<>();
            List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
            for (LoadedModel instance : instances) {
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        for (int call = 0; call < 20; call++) {
                            TestData.assertMatches(instance.infer(golden.inputs()).get(0), golden.outputs().get(0));
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }));
            }
            for (Thread thread : threads) {
                thread.join();
            }
            assertThat(failures).isEmpty();
        } finally {
            instances.forEach(LoadedModel::close);
        }
    }

    private static Tensor int64(String name, long[] shape, long... values) {
        ByteBuffer data = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            data.putLong(v);
        }
        return new Tensor(name, DataType.INT64, shape, data.flip());
    }

    /** A batched model from x: FP32 [2] to y: FP32 [2]. */
    private static ModelConfig pairs(String name) {
        return new ModelConfig(name, "torchscript", 16, List.of(new TensorSpec("x", DataType.FP32, new long[] {2})),
                List.of(new TensorSpec("y", DataType.FP32, new long[] {2})), null, List.of(), EngineSettings.DEFAULT,
                HandlerSpec.TENSOR);
    }

    private static ModelConfig dictModel(String... outputs) {
        List<TensorSpec> specs = new ArrayList<>();
        for (String output : outputs) {
            specs.add(new TensorSpec(output, DataType.FP32, output.equals("total") || output.equals("sum")
                    ? new long[] {} : new long[] {3}));
        }
        return new ModelConfig("dict_out", "torchscript", 0, List.of(new TensorSpec("x", DataType.FP32,
                new long[] {3})), specs, null, List.of(), EngineSettings.DEFAULT, HandlerSpec.TENSOR);
    }
}
