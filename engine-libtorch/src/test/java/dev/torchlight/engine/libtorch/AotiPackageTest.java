package dev.torchlight.engine.libtorch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.api.Tensor;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.engine.EngineException;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.engine.Placement;
import dev.torchlight.engine.libtorch.TestData.Golden;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** AOTInductor packages: batch sizes of the dynamic dimension, and packages that cannot load here. */
class AotiPackageTest {
    private static final LibTorchEngine ENGINE = new LibTorchEngine();
    private static final ModelConfig MLP_AOTI = TestData.config("mlp_aoti");

    @TempDir
    Path tmp;

    @Test
    void everyBatchSizeUpToTheMaximumRunsAndEachRowMatchesTheGolden() {
        Golden golden = TestData.golden("mlp_aoti");
        Tensor input = golden.inputs().get(0);
        Tensor expected = golden.outputs().get(0);
        try (LoadedModel model = ENGINE.load(MLP_AOTI, TestData.modelFile("mlp_aoti", 1), Placement.CPU)) {
            for (int rows : new int[] {1, 2, 3}) {
                Tensor slice = rows(input, rows);
                Tensor out = model.infer(List.of(slice)).get(0);

                TestData.assertMatches(out, rows(expected, rows));
            }
            int max = MLP_AOTI.maxBatchSize();
            Tensor full = TestData.fp32("input", new long[] {max, 64}, new float[max * 64]);
            assertThat(model.infer(List.of(full)).get(0).shape()).containsExactly(max, 2);
        }
    }

    @Test
    void aPackageIsTriedInAChildProcessOnceBeforeTheServerLoadsIt() {
        // Its own engine: the trial count is per engine. PyTorch has died running CPU packages on one
        // machine (docs/GPU.md), which would take every model of the server down.
        LibTorchEngine engine = new LibTorchEngine();
        Path file = TestData.modelFile("mlp_aoti", 1);
        for (int load = 0; load < 2; load++) {
            try (LoadedModel model = engine.load(MLP_AOTI, file, Placement.CPU)) {
                assertThat(model.infer(List.of(TestData.golden("mlp_aoti").inputs().get(0))).get(0).shape())
                        .containsExactly(TestData.golden("mlp_aoti").outputs().get(0).shape());
            }
        }
        assertThat(engine.trials().started()).as("tried once; the unchanged file is not tried again").isEqualTo(1);
    }

    @Test
    void aPackageCompiledForCudaFailsToLoadOnTheCpuSayingSo() {
        Path cuda = TestData.root().resolve("testdata/bad/cuda_pt2/model.pt2");

        assertThatThrownBy(() -> ENGINE.load(MLP_AOTI, cuda, Placement.CPU))
                .isInstanceOf(EngineException.class)
                .hasMessageStartingWith("model 'mlp_aoti': cannot load " + cuda + " as an AOTInductor package: ")
                .hasMessageContaining("cuda")
                .hasMessageNotContaining("\n");
    }

    @Test
    void aTruncatedPackageOrAnotherFileFailsToLoadNamingIt() {
        for (String bad : List.of("truncated_pt2", "not_a_package")) {
            Path file = TestData.root().resolve("testdata/bad").resolve(bad).resolve("model.pt2");

            assertThatThrownBy(() -> ENGINE.load(MLP_AOTI, file, Placement.CPU))
                    .as(bad)
                    .isInstanceOf(EngineException.class)
                    .hasMessageStartingWith("model 'mlp_aoti': cannot load " + file + " as an AOTInductor package: ")
                    .hasMessageNotContaining("\n");
        }
    }

    @Test
    void platformAotiNeedsAPackageFile() throws IOException {
        Path torchScript = Files.copy(TestData.modelFile("mlp", 1), tmp.resolve("model.pt"));

        assertThatThrownBy(() -> ENGINE.load(MLP_AOTI, torchScript, Placement.CPU))
                .isInstanceOf(EngineException.class)
                .hasMessage("model 'mlp_aoti': platform 'aoti' serves AOTInductor packages, named model.pt2, but the"
                        + " version folder holds " + torchScript);
    }

    @Test
    void aPackageFileIsAPackageWhateverThePlatformSays() {
        ModelConfig asTorchScript = TestData.config("mlp");
        Golden golden = TestData.golden("mlp_aoti");
        try (LoadedModel model = ENGINE.load(asTorchScript, TestData.modelFile("mlp_aoti", 1), Placement.CPU)) {
            TestData.assertMatches(model.infer(golden.inputs()).get(0), golden.outputs().get(0));
        }
    }

    /** The first {@code rows} rows of a batched tensor. */
    private static Tensor rows(Tensor tensor, int rows) {
        long[] shape = tensor.shape();
        int rowBytes = tensor.data().remaining() / (int) shape[0];
        shape[0] = rows;
        return new Tensor(tensor.name(), tensor.dataType(), shape, tensor.data().slice(0, rows * rowBytes));
    }
}
