package dev.torchlight.engine.libtorch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.api.DataType;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.EngineSettings;
import dev.torchlight.config.GpuSettings;
import dev.torchlight.config.HandlerSpec;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.Precision;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.engine.EngineException;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.engine.Placement;
import dev.torchlight.engine.libtorch.TestData.Golden;
import java.io.IOException;
import java.util.List;
import java.util.stream.Stream;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * On the CPU: models computing in FP16 and BF16, instances loaded as saved (placement MODEL), and what
 * the GPU side of the engine reports where there is no GPU.
 */
class PrecisionAndPlacementTest {
    private static final LibTorchEngine ENGINE = new LibTorchEngine();
    private static final Golden MLP = TestData.golden("mlp_v1");

    /**
     * The goldens of TorchScript models whose floating-point tensors are all FP32, in each 16-bit
     * precision. (dtypes and dtypes16 declare 16- and 64-bit tensors of their own; AOTInductor packages
     * compute in the types they were compiled with.)
     */
    static Stream<Arguments> fp32Goldens() throws IOException {
        return TestData.goldens()
                .filter(g -> TestData.config(g.model()).platform().equals("torchscript"))
                .filter(g -> Stream.concat(g.inputs().stream(), g.outputs().stream())
                        .allMatch(t -> !t.dataType().isFloatingPoint() || t.dataType() == DataType.FP32))
                .flatMap(g -> Stream.of(Arguments.of(g, Precision.FP16), Arguments.of(g, Precision.BF16)));
    }

    /**
     * Relative to each golden's largest output magnitude: FP16 keeps 11 significant bits, BF16 8, and
     * the rounding of the weights and of every intermediate adds up over a few layers. (The goldens'
     * worst in PyTorch itself: 8e-4 in FP16, 5.3e-3 in BF16.)
     */
    private static double tolerance(Precision precision) {
        return precision == Precision.FP16 ? 5e-3 : 2e-2;
    }

    @ParameterizedTest(name = "{0} in {1}")
    @MethodSource("fp32Goldens")
    void sixteenBitPrecisionMatchesTheGoldensInTheDeclaredDatatypes(Golden golden, Precision precision) {
        ModelConfig config = TestData.config(golden.model());
        config = config.withEngine(config.engine().withPrecision(precision));
        try (LoadedModel model = ENGINE.load(config, TestData.modelFile(golden.model(), golden.version()),
                Placement.CPU)) {
            List<Tensor> outputs = model.infer(golden.inputs());

            assertThat(outputs).hasSameSizeAs(golden.outputs());
            for (int i = 0; i < outputs.size(); i++) {
                TestData.assertClose(outputs.get(i), golden.outputs().get(i), tolerance(precision));
            }
        }
    }

    @Test
    void thePrecisionReachesTheLibrary() {
        ModelConfig mlp = TestData.config("mlp");
        float[] fp32 = run(mlp, Precision.FP32);
        float[] bf16 = run(mlp, Precision.BF16);
        float[] fp16 = run(mlp, Precision.FP16);

        float[] golden = TestData.floats(MLP.outputs().get(0));
        for (int i = 0; i < fp32.length; i++) {
            assertThat(fp32[i]).as("FP32 is the model as saved: element %d", i).isCloseTo(golden[i],
                    Offset.offset(1e-5f * Math.max(1, Math.abs(golden[i]))));
        }
        assertThat(bf16).as("computed in BF16, so not the FP32 numbers").isNotEqualTo(fp32);
        assertThat(fp16).as("computed in FP16").isNotEqualTo(fp32).isNotEqualTo(bf16);
        for (int i = 0; i < fp32.length; i++) {
            // Cast back to FP32 from BF16: no more than 8 significant bits survive.
            assertThat(bits(bf16[i]) & 0xFFFF).as("BF16 element %d widened to FP32", i).isZero();
        }
    }

    @Test
    void frozenAndUnfrozenModelsComputeInTheirPrecision() {
        ModelConfig mlp = TestData.config("mlp");
        for (boolean freeze : new boolean[] {true, false}) {
            ModelConfig config = mlp.withEngine(mlp.engine().withFreeze(freeze).withPrecision(Precision.FP16));
            try (LoadedModel model = ENGINE.load(config, TestData.modelFile("mlp", 1), Placement.CPU)) {
                TestData.assertClose(model.infer(MLP.inputs()).get(0), MLP.outputs().get(0), tolerance(Precision.FP16));
            }
        }
    }

    @Test
    void floatingPointOutputsAreCastBackByPositionOrAllToTheOneDeclaredType() {
        ModelConfig twoIo = TestData.config("two_io");
        assertThat(LibTorchModel.floatOutputCodes(twoIo)).as("FP32: outputs as returned").isEmpty();
        assertThat(LibTorchModel.floatOutputCodes(twoIo.withEngine(twoIo.engine().withPrecision(Precision.BF16))))
                .as("one floating-point type: every position, whatever order a dict comes in")
                .containsExactly(DataTypeCodes.code(DataType.FP32), DataTypeCodes.code(DataType.FP32));

        ModelConfig mixed = new ModelConfig("mixed", "torchscript", 0,
                List.of(new TensorSpec("x", DataType.FP32, new long[] {2})),
                List.of(new TensorSpec("a", DataType.FP64, new long[] {2}),
                        new TensorSpec("n", DataType.INT64, new long[] {2}),
                        new TensorSpec("b", DataType.FP32, new long[] {2})),
                null, List.of(), EngineSettings.DEFAULT.withPrecision(Precision.FP16), HandlerSpec.TENSOR);
        assertThat(LibTorchModel.floatOutputCodes(mixed)).as("several types: each position its own")
                .containsExactly(DataTypeCodes.code(DataType.FP64), -1, DataTypeCodes.code(DataType.FP32));
    }

    @Test
    void aDictModelInSixteenBitsReturnsItsOutputsByKeyInTheDeclaredType() {
        ModelConfig config = new ModelConfig("dict_out", "torchscript", 0,
                List.of(new TensorSpec("x", DataType.FP32, new long[] {3})),
                // Not the order the model returns them in (double, negated, total).
                List.of(new TensorSpec("total", DataType.FP32, new long[] {}),
                        new TensorSpec("negated", DataType.FP32, new long[] {3}),
                        new TensorSpec("double", DataType.FP32, new long[] {3})),
                null, List.of(), EngineSettings.DEFAULT.withPrecision(Precision.BF16), HandlerSpec.TENSOR);
        try (LoadedModel model = ENGINE.load(config, TestData.fixture("dict_out.pt"), Placement.CPU)) {
            List<Tensor> outputs = model.infer(List.of(TestData.fp32("x", new long[] {3}, 1, 2, 4)));

            assertThat(outputs).extracting(Tensor::dataType).containsOnly(DataType.FP32);
            assertThat(TestData.floats(outputs.get(0))).containsExactly(7f);
            assertThat(TestData.floats(outputs.get(1))).containsExactly(-1f, -2f, -4f);
            assertThat(TestData.floats(outputs.get(2))).containsExactly(2f, 4f, 8f);
        }
    }

    @Test
    void anAotiPackageRefusesAPrecisionBeforeLoading() {
        ModelConfig aoti = TestData.config("mlp_aoti");
        ModelConfig fp16 = aoti.withEngine(aoti.engine().withPrecision(Precision.FP16));

        assertThatThrownBy(() -> ENGINE.load(fp16, TestData.modelFile("mlp_aoti", 1), Placement.CPU))
                .isInstanceOf(EngineException.class)
                .hasMessage("model 'mlp_aoti': precision fp16 applies to TorchScript only; an AOTInductor package"
                        + " computes in the types it was compiled with");
    }

    @Test
    void placementModelLoadsTheModelAsSavedAndRunsItOnCpuInputs() {
        try (LoadedModel model = ENGINE.load(TestData.config("mlp"), TestData.modelFile("mlp", 1), Placement.MODEL)) {
            TestData.assertMatches(model.infer(MLP.inputs()).get(0), MLP.outputs().get(0));
            assertThat(model.stream()).as("not on a stream of its own").isEmpty();
        }
    }

    @Test
    void placementModelTakesThePrecisionToo() {
        ModelConfig mlp = TestData.config("mlp");
        ModelConfig bf16 = mlp.withEngine(mlp.engine().withPrecision(Precision.BF16));
        try (LoadedModel model = ENGINE.load(bf16, TestData.modelFile("mlp", 1), Placement.MODEL)) {
            TestData.assertClose(model.infer(MLP.inputs()).get(0), MLP.outputs().get(0), tolerance(Precision.BF16));
        }
    }

    @Test
    void anAotiPackageCannotBeLoadedAsSaved() {
        assertThatThrownBy(() -> ENGINE.load(TestData.config("mlp_aoti"), TestData.modelFile("mlp_aoti", 1),
                Placement.MODEL))
                .isInstanceOf(EngineException.class)
                .hasMessageStartingWith("model 'mlp_aoti': instance kind MODEL (loaded as saved) applies to"
                        + " TorchScript only");
    }

    @Test
    void withoutCudaThereIsNoDeviceMemoryNoAllocationAndNoStream() {
        assertThat(ENGINE.gpuCount()).isZero();
        assertThat(ENGINE.deviceMemory(0)).isEmpty();
        assertThat(ENGINE.deviceMemory(-1)).isEmpty();
        assertThat(ENGINE.deviceAllocations()).isEmpty();
        try (LoadedModel model = ENGINE.load(TestData.config("mlp"), TestData.modelFile("mlp", 1), Placement.CPU)) {
            assertThat(model.stream()).isEmpty();
        }
    }

    @Test
    void gpuSettingsAreIgnoredOnTheCpu() {
        ModelConfig mlp = TestData.config("mlp");
        for (GpuSettings gpu : List.of(new GpuSettings(true, true, true), new GpuSettings(false, false, false))) {
            try (LoadedModel model = ENGINE.load(mlp.withEngine(mlp.engine().withGpu(gpu)),
                    TestData.modelFile("mlp", 1), Placement.CPU)) {
                TestData.assertMatches(model.infer(MLP.inputs()).get(0), MLP.outputs().get(0));
                assertThat(model.stream()).isEmpty();
            }
        }
    }

    @Test
    void theLibraryWithoutCudaSaysSoForTheCudaCalls() {
        EngineLibrary library = ENGINE.library();

        assertThatThrownBy(() -> library.cudaMemoryInfo(0))
                .isInstanceOf(EngineException.class)
                .hasMessageContaining("this build of libtorch has no CUDA");
        assertThatThrownBy(() -> library.cudaAllocatorStats(0))
                .isInstanceOf(EngineException.class)
                .hasMessageContaining("this build of libtorch has no CUDA");
        library.cudaEmptyCache(); // nothing to give back, and no failure
    }

    private static float[] run(ModelConfig mlp, Precision precision) {
        try (LoadedModel model = ENGINE.load(mlp.withEngine(mlp.engine().withPrecision(precision)),
                TestData.modelFile("mlp", 1), Placement.CPU)) {
            Tensor output = model.infer(MLP.inputs()).get(0);
            assertThat(output.dataType()).as("the declared datatype").isEqualTo(DataType.FP32);
            return TestData.floats(output);
        }
    }

    private static int bits(float value) {
        return Float.floatToRawIntBits(value);
    }
}
