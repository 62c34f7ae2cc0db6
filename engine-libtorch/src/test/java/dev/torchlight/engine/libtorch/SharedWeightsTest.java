package dev.torchlight.engine.libtorch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.api.DataType;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.EngineSettings;
import dev.torchlight.config.HandlerSpec;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.Precision;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.engine.Placement;
import dev.torchlight.engine.libtorch.TestData.Golden;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * CPU instances of one TorchScript file share its weights through the real library: one copy
 * however many instances, each running on its own thread at the same time; a module whose forward
 * keeps state is loaded by each instance instead.
 */
class SharedWeightsTest {
    private static final Golden MLP = TestData.golden("mlp_v1");

    private static LibTorchEngine.ModuleKey key(Path file, ModelConfig config) {
        return LibTorchEngine.ModuleKey.of(file, config.engine().precision(), config.engine().freeze());
    }

    @Test
    void instancesOfOneFileShareOneModuleAndRunAtTheSameTime() throws Exception {
        LibTorchEngine engine = new LibTorchEngine(1, 2, LibraryFile::locate);
        ModelConfig config = TestData.config("mlp");
        Path file = TestData.modelFile("mlp", 1);
        SharedModules<?> modules = engine.modules();
        List<LoadedModel> instances = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                instances.add(engine.load(config, file, Placement.CPU));
            }
            assertThat(modules.handles(key(file, config))).isEqualTo(3);
            assertThat(modules.loaded(key(file, config))).as("loaded once").isEqualTo(1);

            // Each instance on its own thread, all at once, each call giving PyTorch's numbers.
            List<CompletableFuture<Void>> runs = new ArrayList<>();
            for (LoadedModel instance : instances) {
                runs.add(CompletableFuture.runAsync(() -> {
                    for (int call = 0; call < 200; call++) {
                        TestData.assertMatches(instance.infer(MLP.inputs()).get(0), MLP.outputs().get(0));
                    }
                }, runnable -> Thread.ofPlatform().start(runnable)));
            }
            CompletableFuture.allOf(runs.toArray(CompletableFuture[]::new)).get();

            // The first instance, which loaded the file, goes; the others keep the module.
            instances.removeFirst().close();
            TestData.assertMatches(instances.getFirst().infer(MLP.inputs()).get(0), MLP.outputs().get(0));
            assertThat(modules.handles(key(file, config))).isEqualTo(2);
        } finally {
            instances.forEach(LoadedModel::close);
        }
        assertThat(modules.handles(key(file, config))).isZero();
    }

    @Test
    void otherLoadSettingsMakeAnotherModule() {
        LibTorchEngine engine = new LibTorchEngine(1, 2, LibraryFile::locate);
        ModelConfig frozen = TestData.config("mlp");
        ModelConfig unfrozen = frozen.withEngine(frozen.engine().withFreeze(false));
        ModelConfig half = frozen.withEngine(frozen.engine().withPrecision(Precision.FP16));
        Path file = TestData.modelFile("mlp", 1);
        List<LoadedModel> instances = new ArrayList<>();
        try {
            for (ModelConfig config : List.of(frozen, unfrozen, half)) {
                instances.add(engine.load(config, file, Placement.CPU));
            }
            for (ModelConfig config : List.of(frozen, unfrozen, half)) {
                assertThat(engine.modules().loaded(key(file, config))).isEqualTo(1);
                assertThat(engine.modules().handles(key(file, config))).isEqualTo(1);
            }
        } finally {
            instances.forEach(LoadedModel::close);
        }
    }

    @Test
    void aModuleThatKeepsStateIsLoadedByEachInstance() {
        for (String fixture : List.of("counts_calls.pt", "keeps_last.pt")) {
            LibTorchEngine engine = new LibTorchEngine(1, 2, LibraryFile::locate);
            ModelConfig config = new ModelConfig("stateful", "torchscript", 0,
                    List.of(new TensorSpec("x", DataType.FP32, new long[] {1})),
                    List.of(new TensorSpec("y", DataType.FP32, new long[] {1})), null, List.of(),
                    EngineSettings.DEFAULT, HandlerSpec.TENSOR);
            Path file = TestData.fixture(fixture);
            try (LoadedModel first = engine.load(config, file, Placement.CPU);
                    LoadedModel second = engine.load(config, file, Placement.CPU)) {
                assertThat(engine.modules().loaded(key(file, config))).as(fixture).isEqualTo(2);
                // Each instance's state is its own: the second's first call is like the first's.
                float once = value(first.infer(List.of(x(5))));
                value(first.infer(List.of(x(5))));
                assertThat(value(second.infer(List.of(x(5))))).as(fixture).isEqualTo(once);
            }
        }
    }

    private static Tensor x(float value) {
        return new Tensor("x", DataType.FP32, new long[] {1},
                ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(value).flip());
    }

    private static float value(List<Tensor> outputs) {
        return outputs.getFirst().data().getFloat(0);
    }
}
