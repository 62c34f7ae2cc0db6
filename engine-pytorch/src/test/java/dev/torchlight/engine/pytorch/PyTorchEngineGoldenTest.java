package dev.torchlight.engine.pytorch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.api.Tensor;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.engine.Placement;
import dev.torchlight.engine.pytorch.TestData.Golden;
import java.io.IOException;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every golden in testdata/golden, run through the engine and compared with PyTorch's outputs. */
class PyTorchEngineGoldenTest {
    private static final PyTorchEngine ENGINE = new PyTorchEngine();

    /** Every served fixture; INT16/BF16 live apart in testdata/unsupported (PyTorchEngineTest). */
    static Stream<Golden> runnableGoldens() throws IOException {
        return TestData.goldens();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("runnableGoldens")
    void matchesPyTorch(Golden golden) {
        ModelConfig config = TestData.config(golden.model());
        try (LoadedModel model = ENGINE.load(config, TestData.modelFile(golden.model(), golden.version()), Placement.CPU)) {
            List<Tensor> outputs = model.infer(golden.inputs());

            assertThat(outputs).hasSameSizeAs(golden.outputs());
            for (int i = 0; i < outputs.size(); i++) {
                TestData.assertMatches(outputs.get(i), golden.outputs().get(i));
            }
        }
    }
}
