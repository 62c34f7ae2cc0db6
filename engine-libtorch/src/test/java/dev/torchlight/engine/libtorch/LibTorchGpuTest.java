package dev.torchlight.engine.libtorch;

import static dev.torchlight.engine.libtorch.TestData.floats;
import static dev.torchlight.engine.libtorch.TestData.fp32;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.torchlight.api.DataType;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.EngineSettings;
import dev.torchlight.config.GpuSettings;
import dev.torchlight.config.HandlerSpec;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.Precision;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.engine.DeviceAllocation;
import dev.torchlight.engine.DeviceMemory;
import dev.torchlight.engine.EngineException;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.engine.Placement;
import dev.torchlight.engine.libtorch.TestData.Golden;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The engine on cuda:0: the goldens with every GPU setting, streams, a CUDA graph that cannot be
 * captured, precision, out of memory, the memory figures and unloading. Skipped where the library was
 * built without CUDA or libtorch sees no GPU.
 */
class LibTorchGpuTest {
    private static final LibTorchEngine ENGINE = new LibTorchEngine();
    private static final Placement GPU = Placement.gpu(0);
    /** TF32 convolutions (cuDNN's default) and other kernels than the CPU's, relative to the largest output. */
    private static final double TOLERANCE = 2e-3;

    @BeforeAll
    static void needsAGpu() {
        assumeTrue(ENGINE.gpuCount() > 0, "no CUDA in the engine library, or no GPU");
    }

    /** TorchScript goldens (the packages in testdata/ are compiled for the CPU), with each GPU setting. */
    static Stream<Arguments> goldensAndSettings() throws IOException {
        List<GpuSettings> settings = List.of(new GpuSettings(false, false, false), new GpuSettings(true, false, true),
                new GpuSettings(true, true, false), new GpuSettings(true, true, true));
        return TestData.goldens().filter(g -> TestData.config(g.model()).platform().equals("torchscript"))
                .flatMap(g -> settings.stream().map(s -> Arguments.of(g, s)));
    }

    @ParameterizedTest(name = "{0} with {1}")
    @MethodSource("goldensAndSettings")
    void matchesTheGoldensWithEveryGpuSetting(Golden golden, GpuSettings gpu) {
        ModelConfig config = TestData.config(golden.model());
        try (LoadedModel model = ENGINE.load(config.withEngine(config.engine().withGpu(gpu)),
                TestData.modelFile(golden.model(), golden.version()), GPU)) {
            for (int call = 0; call < 3; call++) { // with CUDA graphs the first captures, the others replay
                List<Tensor> outputs = model.infer(golden.inputs());
                for (int i = 0; i < outputs.size(); i++) {
                    TestData.assertClose(outputs.get(i), golden.outputs().get(i), TOLERANCE);
                }
            }
            assertThat(((LibTorchModel) model).notice()).as("no capture failed").isEmpty();
        }
    }

    @Test
    void eachInstanceRunsOnAStreamOfItsOwn() {
        ModelConfig mlp = TestData.config("mlp");
        try (LoadedModel first = ENGINE.load(mlp, TestData.modelFile("mlp", 1), GPU);
                LoadedModel second = ENGINE.load(mlp, TestData.modelFile("mlp", 1), GPU)) {
            assertThat(first.stream()).matches("cuda:0/stream \\d+");
            assertThat(second.stream()).matches("cuda:0/stream \\d+").isNotEqualTo(first.stream());
        }
    }

    @Test
    void aModelThatCannotBeCapturedRunsEagerlyAndSaysWhy() {
        ModelConfig config = pairs("raises", new GpuSettings(true, true, true), Precision.FP32);
        try (LoadedModel model = ENGINE.load(config, TestData.fixture("raises.pt"), GPU)) {
            for (int call = 0; call < 3; call++) {
                assertThat(floats(model.infer(List.of(fp32("x", new long[] {2, 2}, 1, 2, 3, 4))).get(0)))
                        .containsExactly(2, 3, 4, 5);
            }
            assertThat(((LibTorchModel) model).notice())
                    .startsWith("CUDA graph capture failed for input shapes [2, 2], running eagerly");
        }
    }

    /** On an H200, models loading beside a capture failed and broke it: the capture now runs alone. */
    @Test
    void aCaptureAndTheModelsLoadingAndRunningBesideItDoNotDisturbEachOther() throws Exception {
        ModelConfig mlp = TestData.config("mlp");
        ModelConfig graphed = mlp.withEngine(mlp.engine().withGpu(new GpuSettings(true, true, true)));
        Path file = TestData.modelFile("mlp", 1);
        ExecutorService threads = Executors.newFixedThreadPool(3);
        AtomicBoolean capturing = new AtomicBoolean(true);
        try (LoadedModel eager = ENGINE.load(mlp, file, GPU); LoadedModel captured = ENGINE.load(graphed, file, GPU)) {
            Tensor eightRows = eager.infer(List.of(rows(8))).get(0); // a model runs on one thread at a time
            List<Future<Integer>> beside = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                beside.add(threads.submit(() -> {
                    int cycles = 0;
                    do { // load, run and unload for as long as the captures go on
                        try (LoadedModel model = ENGINE.load(mlp, file, GPU)) {
                            TestData.assertClose(model.infer(List.of(rows(8))).get(0), eightRows, TOLERANCE);
                        }
                        cycles++;
                    } while (capturing.get());
                    return cycles;
                }));
            }
            for (int batch = 1; batch <= 32; batch++) { // each batch size a new shape, so a new capture
                Tensor expected = eager.infer(List.of(rows(batch))).get(0);
                for (int call = 0; call < 2; call++) {
                    TestData.assertClose(captured.infer(List.of(rows(batch))).get(0), expected, TOLERANCE);
                }
            }
            capturing.set(false);
            for (Future<Integer> cycles : beside) {
                assertThat(cycles.get(2, TimeUnit.MINUTES)).isPositive();
            }
            assertThat(((LibTorchModel) captured).notice()).as("no capture failed").isEmpty();
        } finally {
            capturing.set(false);
            threads.shutdownNow();
        }
    }

    @Test
    void sixteenBitPrecisionOnTheGpu() {
        Golden golden = TestData.golden("mlp_v1");
        ModelConfig mlp = TestData.config("mlp");
        for (Precision precision : List.of(Precision.FP16, Precision.BF16)) {
            try (LoadedModel model = ENGINE.load(mlp.withEngine(mlp.engine().withPrecision(precision)
                    .withGpu(new GpuSettings(true, true, true))), TestData.modelFile("mlp", 1), GPU)) {
                for (int call = 0; call < 2; call++) {
                    TestData.assertClose(model.infer(golden.inputs()).get(0), golden.outputs().get(0), 2e-2);
                }
            }
        }
    }

    @Test
    void runningOutOfMemoryIsMarkedAndASmallerBatchRuns() {
        try (LoadedModel model = ENGINE.load(pairs("oom_rows", GpuSettings.DEFAULT, Precision.FP32),
                TestData.fixture("oom_rows.pt"), GPU)) {
            float[] eightRows = new float[16];
            Arrays.fill(eightRows, 1);
            EngineException oom = catchThrowableOfType(EngineException.class,
                    () -> model.infer(List.of(fp32("x", new long[] {8, 2}, eightRows))));

            assertThat(oom).isNotNull();
            assertThat(oom.outOfMemory()).as(oom.getMessage()).isTrue();
            assertThat(floats(model.infer(List.of(fp32("x", new long[] {2, 2}, 1, 2, 3, 4))).get(0)))
                    .containsExactly(2, 4, 6, 8);
        }
    }

    @Test
    void theMemoryFiguresAndUnloadingGivesMemoryBack() {
        DeviceMemory memory = ENGINE.deviceMemory(0).orElseThrow();
        assertThat(memory.totalBytes()).isPositive();
        assertThat(memory.freeBytes()).isPositive().isLessThanOrEqualTo(memory.totalBytes());
        assertThat(ENGINE.deviceMemory(ENGINE.gpuCount())).isEmpty();

        long reservedLoaded;
        try (LoadedModel model = ENGINE.load(TestData.config("cnn"), TestData.modelFile("cnn", 1), GPU)) {
            model.infer(TestData.golden("cnn").inputs());
            List<DeviceAllocation> allocations = ENGINE.deviceAllocations();
            assertThat(allocations).extracting(DeviceAllocation::device)
                    .containsExactlyElementsOf(Stream.iterate(0, d -> d + 1).limit(ENGINE.gpuCount()).toList());
            DeviceAllocation gpu0 = allocations.get(0);
            assertThat(gpu0.allocatedBytes()).as("the weights").isPositive();
            assertThat(gpu0.reservedBytes()).isGreaterThanOrEqualTo(gpu0.allocatedBytes());
            assertThat(gpu0.peakAllocatedBytes()).isGreaterThanOrEqualTo(gpu0.allocatedBytes());
            reservedLoaded = gpu0.reservedBytes();
        }
        assertThat(ENGINE.deviceAllocations().get(0).reservedBytes()).as("after unloading")
                .isLessThan(reservedLoaded);
    }

    /** batch rows of the mlp model's 64 features. */
    private static Tensor rows(int batch) {
        float[] values = new float[batch * 64];
        for (int i = 0; i < values.length; i++) {
            values[i] = (i % 13) / 13f;
        }
        return fp32("input", new long[] {batch, 64}, values);
    }

    /** A batched model from x: FP32 [2] to y: FP32 [2]. */
    private static ModelConfig pairs(String name, GpuSettings gpu, Precision precision) {
        return new ModelConfig(name, "torchscript", 16, List.of(new TensorSpec("x", DataType.FP32, new long[] {2})),
                List.of(new TensorSpec("y", DataType.FP32, new long[] {2})), null, List.of(),
                EngineSettings.DEFAULT.withPrecision(precision).withGpu(gpu), HandlerSpec.TENSOR);
    }
}
