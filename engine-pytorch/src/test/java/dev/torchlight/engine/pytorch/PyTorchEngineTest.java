package dev.torchlight.engine.pytorch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.torchlight.api.DataType;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.HandlerSpec;
import dev.torchlight.config.InstanceGroup;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.ModelConfigParser;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.engine.EngineException;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.engine.Placement;
import dev.torchlight.engine.pytorch.TestData.Golden;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PyTorchEngineTest {
    private static final PyTorchEngine ENGINE = new PyTorchEngine();

    @TempDir
    Path tmp;

    @Test
    void missingFileIsAnEngineExceptionNamingTheFile() {
        Path missing = tmp.resolve("mlp/1/model.pt");

        assertThatThrownBy(() -> ENGINE.load(TestData.config("mlp"), missing, Placement.CPU))
                .isInstanceOf(EngineException.class)
                .hasMessageContaining(missing.toString())
                .hasMessageContaining("does not exist");
    }

    @Test
    void directoryIsNotAModelFile() {
        assertThatThrownBy(() -> ENGINE.load(TestData.config("mlp"), tmp, Placement.CPU))
                .isInstanceOf(EngineException.class)
                .hasMessageContaining(tmp.toString())
                .hasMessageContaining("not a file");
    }

    @Test
    void garbageFileIsAnEngineExceptionNamingTheFile() throws IOException {
        Path garbage = Files.writeString(tmp.resolve("model.pt"), "this is not TorchScript");

        assertThatThrownBy(() -> ENGINE.load(TestData.config("mlp"), garbage, Placement.CPU))
                .isInstanceOf(EngineException.class)
                .hasMessageContaining(garbage.toString())
                .hasMessageContaining("TorchScript")
                .hasMessageNotContaining("\n");
    }

    @Test
    void truncatedFileIsAnEngineExceptionNamingTheFile() throws IOException {
        byte[] model = Files.readAllBytes(TestData.modelFile("mlp", 1));
        Path truncated = Files.write(tmp.resolve("model.pt"), Arrays.copyOf(model, model.length / 2));

        assertThatThrownBy(() -> ENGINE.load(TestData.config("mlp"), truncated, Placement.CPU))
                .isInstanceOf(EngineException.class)
                .hasMessageContaining(truncated.toString());
    }

    @Test
    void wrongInputShapeIsAnEngineExceptionAndTheModelKeepsWorking() {
        Golden golden = TestData.golden(TestData.root().resolve("testdata/golden/mlp_v1.json"));
        try (LoadedModel model = ENGINE.load(TestData.config("mlp"), TestData.modelFile("mlp", 1), Placement.CPU)) {
            Tensor wrong = new Tensor("input", DataType.FP32, new long[] {1, 63},
                    ByteBuffer.allocate(63 * 4));

            assertThatThrownBy(() -> model.infer(List.of(wrong)))
                    .isInstanceOf(EngineException.class)
                    .hasMessageStartingWith("model 'mlp': ")
                    .hasMessageContaining("63")
                    .hasMessageNotContaining("\n");

            TestData.assertMatches(model.infer(golden.inputs()).get(0), golden.outputs().get(0));
        }
    }

    @Test
    void outputCountDifferentFromConfigIsAnEngineException() {
        ModelConfig twoIo = TestData.config("two_io");
        ModelConfig oneOutput = new ModelConfig(twoIo.name(), twoIo.platform(), twoIo.maxBatchSize(),
                twoIo.inputs(), twoIo.outputs().subList(0, 1), null, List.of(), 0, HandlerSpec.TENSOR);
        Golden golden = TestData.golden(TestData.root().resolve("testdata/golden/two_io.json"));
        try (LoadedModel model = ENGINE.load(oneOutput, TestData.modelFile("two_io", 1), Placement.CPU)) {
            assertThatThrownBy(() -> model.infer(golden.inputs()))
                    .isInstanceOf(EngineException.class)
                    .hasMessage("model 'two_io' returned 2 outputs, its config declares 1");
        }
    }

    @Test
    void outputDatatypeDifferentFromConfigIsAnEngineException() {
        ModelConfig mlp = TestData.config("mlp");
        ModelConfig fp64 = new ModelConfig(mlp.name(), mlp.platform(), mlp.maxBatchSize(), mlp.inputs(),
                List.of(new TensorSpec("output", DataType.FP64, new long[] {2})), null, List.of(), 0, HandlerSpec.TENSOR);
        Golden golden = TestData.golden(TestData.root().resolve("testdata/golden/mlp_v1.json"));
        try (LoadedModel model = ENGINE.load(fp64, TestData.modelFile("mlp", 1), Placement.CPU)) {
            assertThatThrownBy(() -> model.infer(golden.inputs()))
                    .isInstanceOf(EngineException.class)
                    .hasMessage("model 'mlp' returned output 'output' as FP32, its config declares FP64");
        }
    }

    @Test
    void int16AndBf16AreRefusedAtLoadNamingTheTensor() {
        Path dtypes16 = TestData.root().resolve("testdata/unsupported/dtypes16");
        ModelConfig config = ModelConfigParser.parse(dtypes16.resolve("config.yaml"), "dtypes16");
        assertThatThrownBy(() -> ENGINE.load(config, dtypes16.resolve("1/model.pt"), Placement.CPU))
                .isInstanceOf(EngineException.class)
                .hasMessageContaining("input 'x_int16' has datatype INT16");

        ModelConfig mlp = TestData.config("mlp");
        ModelConfig bf16 = new ModelConfig(mlp.name(), mlp.platform(), mlp.maxBatchSize(), mlp.inputs(),
                List.of(new TensorSpec("output", DataType.BF16, new long[] {2})), null, List.of(), 0, HandlerSpec.TENSOR);
        assertThatThrownBy(() -> ENGINE.load(bf16, TestData.modelFile("mlp", 1), Placement.CPU))
                .isInstanceOf(EngineException.class)
                .hasMessageContaining("output 'output' has datatype BF16");
    }

    @Test
    void dictOutputsAreMatchedByKey() {
        ModelConfig config = new ModelConfig("dict_out", "torchscript", 0,
                List.of(new TensorSpec("x", DataType.FP32, new long[] {3})),
                List.of(new TensorSpec("total", DataType.FP32, new long[] {}),
                        new TensorSpec("negated", DataType.FP32, new long[] {3}),
                        new TensorSpec("double", DataType.FP32, new long[] {3})), null, List.of(), 0, HandlerSpec.TENSOR);
        try (LoadedModel model = ENGINE.load(config, fixture("dict_out.pt"), Placement.CPU)) {
            List<Tensor> outputs = model.infer(List.of(fp32("x", new long[] {3}, 1, 2, 4)));

            assertThat(outputs).extracting(Tensor::name).containsExactly("total", "negated", "double");
            assertThat(outputs.get(0).shape()).isEmpty();
            assertThat(floats(outputs.get(0))).containsExactly(7f);
            assertThat(floats(outputs.get(1))).containsExactly(-1f, -2f, -4f);
            assertThat(floats(outputs.get(2))).containsExactly(2f, 4f, 8f);
        }
    }

    @Test
    void dictWithoutADeclaredKeyIsAnEngineException() {
        ModelConfig config = new ModelConfig("dict_out", "torchscript", 0,
                List.of(new TensorSpec("x", DataType.FP32, new long[] {3})),
                List.of(new TensorSpec("double", DataType.FP32, new long[] {3}),
                        new TensorSpec("negated", DataType.FP32, new long[] {3}),
                        new TensorSpec("sum", DataType.FP32, new long[] {})), null, List.of(), 0, HandlerSpec.TENSOR);
        try (LoadedModel model = ENGINE.load(config, fixture("dict_out.pt"), Placement.CPU)) {
            assertThatThrownBy(() -> model.infer(List.of(fp32("x", new long[] {3}, 1, 2, 4))))
                    .isInstanceOf(EngineException.class)
                    .hasMessage("model 'dict_out' returned a dict without key 'sum';"
                            + " its keys are [double, negated, total]");
        }
    }

    @Test
    void nonContiguousOutputIsCopiedInLogicalOrder() {
        ModelConfig config = new ModelConfig("transposed", "torchscript", 0,
                List.of(new TensorSpec("x", DataType.FP32, new long[] {2, 3})),
                List.of(new TensorSpec("y", DataType.FP32, new long[] {3, 2})), null, List.of(), 0, HandlerSpec.TENSOR);
        try (LoadedModel model = ENGINE.load(config, fixture("transposed.pt"), Placement.CPU)) {
            Tensor y = model.infer(List.of(fp32("x", new long[] {2, 3}, 1, 2, 3, 4, 5, 6))).get(0);

            assertThat(y.shape()).containsExactly(3, 2);
            assertThat(floats(y)).containsExactly(1f, 4f, 2f, 5f, 3f, 6f);
        }
    }

    @Test
    void directAndMisalignedInputsGiveTheSameResult() {
        Golden golden = TestData.golden(TestData.root().resolve("testdata/golden/mlp_v1.json"));
        Tensor input = golden.inputs().get(0);
        int bytes = input.data().remaining();
        ByteBuffer direct = ByteBuffer.allocateDirect(bytes).put(input.data()).flip();
        ByteBuffer misaligned = ByteBuffer.allocateDirect(bytes + 1).position(1);
        misaligned = misaligned.slice().put(input.data()).flip();
        try (LoadedModel model = ENGINE.load(TestData.config("mlp"), TestData.modelFile("mlp", 1), Placement.CPU)) {
            for (ByteBuffer data : List.of(direct, misaligned)) {
                Tensor tensor = new Tensor("input", DataType.FP32, input.shape(), data);
                TestData.assertMatches(model.infer(List.of(tensor)).get(0), golden.outputs().get(0));
            }
        }
    }

    @Test
    void outputsStayValidAfterLaterCallsAndClose() {
        Golden golden = TestData.golden(TestData.root().resolve("testdata/golden/mlp_v1.json"));
        List<Tensor> first;
        try (LoadedModel model = ENGINE.load(TestData.config("mlp"), TestData.modelFile("mlp", 1), Placement.CPU)) {
            first = model.infer(golden.inputs());
            model.infer(List.of(new Tensor("input", DataType.FP32, new long[] {2, 64},
                    ByteBuffer.allocate(2 * 64 * 4))));
        }
        TestData.assertMatches(first.get(0), golden.outputs().get(0));
    }

    @Test
    void closedModelRefusesCalls() {
        Golden golden = TestData.golden(TestData.root().resolve("testdata/golden/mlp_v1.json"));
        LoadedModel model = ENGINE.load(TestData.config("mlp"), TestData.modelFile("mlp", 1), Placement.CPU);
        model.close();
        model.close();

        assertThatThrownBy(() -> model.infer(golden.inputs()))
                .isInstanceOf(EngineException.class)
                .hasMessage("model 'mlp' is closed");
    }

    @Test
    void intraOpThreadsAreApplied() {
        PyTorchRuntime.start();
        int before = PyTorchRuntime.intraOpThreads();
        try {
            PyTorchEngine oneThread = new PyTorchEngine(new PyTorchOptions(1, false));
            oneThread.load(TestData.config("mlp"), TestData.modelFile("mlp", 1), Placement.CPU).close();

            assertThat(PyTorchRuntime.intraOpThreads()).isEqualTo(1);
        } finally {
            PyTorchRuntime.setIntraOpThreads(before); // process-wide: leave it as found
        }
    }

    @Test
    void intraOpThreadsComeFromTheConfigThenTheEngineThenAShare() {
        ModelConfig mlp = TestData.config("mlp");
        ModelConfig four = withThreads(mlp, 4, List.of());

        assertThat(PyTorchEngine.fixedIntraOpThreads(four, 2)).as("the config wins").isEqualTo(4);
        assertThat(PyTorchEngine.fixedIntraOpThreads(mlp, 2)).as("then the engine option").isEqualTo(2);
        assertThat(PyTorchEngine.fixedIntraOpThreads(mlp, 0)).as("else a share of the cores").isZero();
    }

    @Test
    void instancesOfAllModelsShareTheCoresAndEachCallRunsWithTheCurrentShare() throws Exception {
        Golden golden = TestData.golden(TestData.root().resolve("testdata/golden/mlp_v1.json"));
        PyTorchRuntime.start();
        int before = PyTorchRuntime.intraOpThreads();
        PyTorchEngine engine = new PyTorchEngine(PyTorchOptions.defaults(), 4);
        try (LoadedModel first = engine.load(TestData.config("mlp"), TestData.modelFile("mlp", 1), Placement.CPU)) {
            assertThat(threadsOfACallOnAFreshThread(first, golden)).as("alone: every core").isEqualTo(4);
            try (LoadedModel second = engine.load(TestData.config("mlp"), TestData.modelFile("mlp", 1), Placement.CPU);
                    LoadedModel fixed = engine.load(withThreads(TestData.config("mlp"), 1, List.of()),
                            TestData.modelFile("mlp", 1), Placement.CPU)) {
                assertThat(engine.sharedIntraOpThreads()).as("(4 cores - 1 fixed) / 2 instances").isEqualTo(1);
                assertThat(threadsOfACallOnAFreshThread(first, golden)).isEqualTo(1);
                assertThat(threadsOfACallOnAFreshThread(fixed, golden)).isEqualTo(1);
                assertThat(threadsOfACallOnAFreshThread(second, golden)).isEqualTo(1);
            }
            assertThat(engine.sharedIntraOpThreads()).as("the others unloaded").isEqualTo(4);
            assertThat(threadsOfACallOnAFreshThread(first, golden)).isEqualTo(4);
        } finally {
            PyTorchRuntime.setIntraOpThreads(before); // process-wide: leave it as found
        }
    }

    private static int threadsOfACallOnAFreshThread(LoadedModel model, Golden golden) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            model.infer(golden.inputs());
            return PyTorchRuntime.intraOpThreads();
        }, task -> Thread.ofPlatform().start(task)).get();
    }

    @Test
    void eachModelRunsWithItsOwnIntraOpThreadsOnTheThreadThatRunsIt() throws Exception {
        Golden golden = TestData.golden(TestData.root().resolve("testdata/golden/mlp_v1.json"));
        PyTorchRuntime.start();
        int before = PyTorchRuntime.intraOpThreads();
        try (LoadedModel model = ENGINE.load(withThreads(TestData.config("mlp"), 1, List.of()),
                TestData.modelFile("mlp", 1), Placement.CPU)) {
            assertThat(PyTorchRuntime.intraOpThreads()).as("set on load").isEqualTo(1);
            PyTorchRuntime.setIntraOpThreads(2); // as if another model loaded after it
            int seen = CompletableFuture.supplyAsync(() -> {
                model.infer(golden.inputs());
                return PyTorchRuntime.intraOpThreads();
            }, task -> Thread.ofPlatform().start(task)).get();

            assertThat(seen).as("a fresh worker thread runs with the model's own value").isEqualTo(1);
        } finally {
            PyTorchRuntime.setIntraOpThreads(before); // process-wide: leave it as found
        }
    }

    @Test
    void libtorchsOwnOutOfMemoryErrorIsRecognized() {
        try (NDManager manager = PyTorchRuntime.start().newBaseManager(Device.cpu())) {
            // 4 PiB: more than any address space, so the allocation fails at once.
            Throwable thrown = catchThrowable(() -> manager.zeros(new Shape(1L << 50)));

            assertThat(thrown).isNotNull();
            assertThat(NativeErrors.outOfMemory(thrown)).as(thrown.getMessage()).isTrue();
        }
    }

    @Test
    void gpuCountIsZeroOnThisCpuBuild() {
        assertThat(ENGINE.gpuCount()).isZero();
    }

    @Test
    void aGpuPlacementIsRefusedBeforeAnythingLoads() {
        assertThatThrownBy(() -> ENGINE.load(TestData.config("mlp"), TestData.modelFile("mlp", 1), Placement.gpu(0)))
                .isInstanceOf(EngineException.class)
                .hasMessage("model 'mlp': cannot place an instance on cuda:0: this build runs libtorch on CPU");
    }

    private static ModelConfig withThreads(ModelConfig c, int threads, List<InstanceGroup> groups) {
        return new ModelConfig(c.name(), c.platform(), c.maxBatchSize(), c.inputs(), c.outputs(), null, groups,
                threads, HandlerSpec.TENSOR);
    }

    static Path fixture(String name) {
        try {
            return Path.of(Objects.requireNonNull(
                    PyTorchEngineTest.class.getResource("/fixtures/" + name), name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Tensor fp32(String name, long[] shape, float... values) {
        ByteBuffer data = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            data.putFloat(v);
        }
        return new Tensor(name, DataType.FP32, shape, data.flip());
    }

    static float[] floats(Tensor tensor) {
        float[] values = new float[Math.toIntExact(tensor.elementCount())];
        tensor.data().asFloatBuffer().get(values);
        return values;
    }
}
