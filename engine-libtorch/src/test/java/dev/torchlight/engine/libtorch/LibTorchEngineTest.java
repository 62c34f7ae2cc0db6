package dev.torchlight.engine.libtorch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.config.ModelConfig;
import dev.torchlight.engine.EngineException;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.engine.Placement;
import dev.torchlight.engine.libtorch.TestData.Golden;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** What is particular to the libtorch engine: threads, devices, freezing, the library it runs. */
class LibTorchEngineTest {
    private static final LibTorchEngine ENGINE = new LibTorchEngine();
    private static final Golden MLP = TestData.golden("mlp_v1");

    @Test
    void runsTheLibtorchItWasBuiltAgainst() {
        EngineLibrary library = ENGINE.library();

        assertThat(ENGINE.libtorchVersion()).isEqualTo(library.file().libtorchVersion()).startsWith("2.");
        assertThat(library.features() & EngineLibrary.FEATURE_AOTI).as("AOTInductor").isNotZero();
    }

    @Test
    void theCpuBuildSeesNoGpuAndRefusesAGpuPlacementBeforeLoading() {
        assertThat(ENGINE.gpuCount()).isZero();
        assertThatThrownBy(() -> ENGINE.load(TestData.config("mlp"), TestData.modelFile("mlp", 1), Placement.gpu(0)))
                .isInstanceOf(EngineException.class)
                .hasMessageStartingWith("model 'mlp': cannot place an instance on cuda:0: the engine library was"
                        + " built against a libtorch without CUDA");
    }

    @Test
    void frozenAndUnfrozenTorchScriptGiveTheSameOutputs() {
        ModelConfig mlp = TestData.config("mlp");
        for (boolean freeze : new boolean[] {true, false}) {
            ModelConfig config = mlp.withEngine(mlp.engine().withFreeze(freeze));
            try (LoadedModel model = ENGINE.load(config, TestData.modelFile("mlp", 1), Placement.CPU)) {
                TestData.assertMatches(model.infer(MLP.inputs()).get(0), MLP.outputs().get(0));
            }
        }
    }

    @Test
    void intraOpThreadsComeFromTheConfigThenTheEngineThenAShare() {
        ModelConfig mlp = TestData.config("mlp");
        ModelConfig four = mlp.withEngine(mlp.engine().withIntraOpThreads(4));
        LibTorchEngine twoEach = new LibTorchEngine(2, 8, LibraryFile::locate);

        assertThat(twoEach.fixedIntraOpThreads(four)).as("the config wins").isEqualTo(4);
        assertThat(twoEach.fixedIntraOpThreads(mlp)).as("then the engine option").isEqualTo(2);
        assertThat(ENGINE.fixedIntraOpThreads(mlp)).as("else a share of the cores").isZero();
    }

    @Test
    void instancesOfAllModelsShareTheCoresAndEachCallRunsWithTheCurrentShare() throws Exception {
        LibTorchEngine engine = new LibTorchEngine(0, 4, LibraryFile::locate);
        ModelConfig mlp = TestData.config("mlp");
        try (LoadedModel first = engine.load(mlp, TestData.modelFile("mlp", 1), Placement.CPU)) {
            assertThat(threadsOfACallOnAFreshThread(engine, first)).as("alone: every core").isEqualTo(4);
            try (LoadedModel second = engine.load(mlp, TestData.modelFile("mlp", 1), Placement.CPU);
                    LoadedModel fixed = engine.load(mlp.withEngine(mlp.engine().withIntraOpThreads(1)),
                            TestData.modelFile("mlp", 1), Placement.CPU)) {
                assertThat(engine.sharedIntraOpThreads()).as("(4 cores - 1 fixed) / 2 instances").isEqualTo(1);
                assertThat(threadsOfACallOnAFreshThread(engine, first)).isEqualTo(1);
                assertThat(threadsOfACallOnAFreshThread(engine, fixed)).isEqualTo(1);
                assertThat(threadsOfACallOnAFreshThread(engine, second)).isEqualTo(1);
            }
            assertThat(engine.sharedIntraOpThreads()).as("the others unloaded").isEqualTo(4);
            assertThat(threadsOfACallOnAFreshThread(engine, first)).isEqualTo(4);
        }
    }

    @Test
    void eachModelRunsWithItsOwnIntraOpThreadsOnTheThreadThatRunsIt() throws Exception {
        ModelConfig mlp = TestData.config("mlp");
        try (LoadedModel one = ENGINE.load(mlp.withEngine(mlp.engine().withIntraOpThreads(1)),
                TestData.modelFile("mlp", 1), Placement.CPU);
                LoadedModel three = ENGINE.load(mlp.withEngine(mlp.engine().withIntraOpThreads(3)),
                        TestData.modelFile("mlp", 1), Placement.CPU)) {
            int[] seen = CompletableFuture.supplyAsync(() -> {
                one.infer(MLP.inputs());
                int afterOne = ENGINE.library().intraOpThreads();
                three.infer(MLP.inputs());
                int afterThree = ENGINE.library().intraOpThreads();
                one.infer(MLP.inputs());
                return new int[] {afterOne, afterThree, ENGINE.library().intraOpThreads()};
            }, task -> Thread.ofPlatform().start(task)).get();

            assertThat(seen).as("one thread running both models in turn").containsExactly(1, 3, 1);
        }
    }

    @Test
    void aRunOnAnotherThreadComputesTheSameOnThatThreadAlone() throws Exception {
        ModelConfig mlp = TestData.config("mlp");
        try (LoadedModel three = ENGINE.load(mlp.withEngine(mlp.engine().withIntraOpThreads(3)),
                TestData.modelFile("mlp", 1), Placement.CPU)) {
            int threads = CompletableFuture.supplyAsync(() -> {
                TestData.assertMatches(three.inferOnCaller(MLP.inputs()).get(0), MLP.outputs().get(0));
                return ENGINE.library().intraOpThreads();
            }, task -> Thread.ofPlatform().start(task)).get();

            assertThat(threads).as("an I/O thread gets no OpenMP team of its own").isEqualTo(1);
            assertThat(threadsOfACallOnAFreshThread(ENGINE, three)).as("the instance's own runs").isEqualTo(3);
        }
    }

    private static int threadsOfACallOnAFreshThread(LibTorchEngine engine, LoadedModel model) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            model.infer(MLP.inputs());
            return engine.library().intraOpThreads();
        }, task -> Thread.ofPlatform().start(task)).get();
    }
}
