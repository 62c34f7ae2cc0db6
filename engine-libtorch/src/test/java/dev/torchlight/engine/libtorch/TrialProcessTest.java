package dev.torchlight.engine.libtorch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.api.DataType;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.engine.EngineException;
import dev.torchlight.engine.Placement;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The trial load in a child JVM, for real: the child loads the package with the engine library and
 * runs it, and a child that crashes (made to, with a JVM option that aborts it on running out of
 * heap) becomes a failed load naming the crash, with the test's JVM still running.
 */
class TrialProcessTest {
    private static final Path LIBRARY = LibraryFile.locate().library();
    private static final ModelConfig MLP_AOTI = TestData.config("mlp_aoti");
    private static final Path PACKAGE = TestData.modelFile("mlp_aoti", 1);

    @Test
    void everyAotiPackageIsTriedOnTheGpuAndTheCpu() {
        assertThat(TrialProcess.wanted(true, Placement.gpu(0))).isTrue();
        assertThat(TrialProcess.wanted(true, Placement.CPU)).isTrue();
        assertThat(TrialProcess.wanted(false, Placement.gpu(0))).isFalse();
        assertThat(TrialProcess.wanted(false, Placement.MODEL)).isFalse();
    }

    @Test
    void aPackageThatLoadsAndRunsPassesOnceAndIsNotTriedAgain() {
        TrialProcess trials = new TrialProcess(LIBRARY, List.of(), Duration.ofMinutes(2));

        trials.check(MLP_AOTI, PACKAGE, Placement.CPU);
        trials.check(MLP_AOTI, PACKAGE, Placement.CPU);

        assertThat(trials.started()).as("the unchanged file is not tried again").isEqualTo(1);
    }

    @Test
    void aChildThatCrashesIsAFailedLoadNamingTheSignalAndTheCrashReport() {
        // 64 MiB of zeros on an 8 MiB heap: the child's JVM aborts as a native crash would end it.
        TrialProcess trials = new TrialProcess(LIBRARY, List.of("-Xmx8m", "-XX:+CrashOnOutOfMemoryError"),
                Duration.ofMinutes(2));

        assertThatThrownBy(() -> trials.check("mlp_aoti", List.of("FP32:1," + (1 << 24)), PACKAGE, Placement.CPU))
                .isInstanceOf(EngineException.class)
                .hasMessageStartingWith("model 'mlp_aoti': the AOTInductor package " + PACKAGE
                        + " crashed the process that loaded it on cpu as a trial (exit status 1; ")
                .hasMessageContaining("Internal Error")
                .hasMessageContaining("Trial output: Aborting due to java.lang.OutOfMemoryError")
                .hasMessageContaining("not loaded into the server")
                .hasMessageContaining("docs/GPU.md")
                .hasMessageNotContaining("submit a bug report");
    }

    @Test
    void aChildThatCannotRunIsNoReasonToRefuseTheModel() {
        TrialProcess trials = new TrialProcess(LIBRARY, List.of("-XX:+NoSuchOptionAnywhere"), Duration.ofMinutes(2));

        trials.check(MLP_AOTI, PACKAGE, Placement.CPU); // the JVM refuses to start: logged, the load goes on
    }

    @Test
    void anErrorInTheChildIsLeftToTheServersOwnLoad() {
        Path missing = PACKAGE.resolveSibling("missing.pt2");
        TrialProcess trials = new TrialProcess(LIBRARY, List.of(), Duration.ofMinutes(2));

        trials.check(MLP_AOTI, missing, Placement.CPU); // the child exits with FAILED; no exception here
    }

    @Test
    void theInputsAreOneRowOfZerosWithVariableDimensionsOne() {
        TensorSpec image = new TensorSpec("image", DataType.FP16, new long[] {3, -1, 224});
        assertThat(TrialProcess.input(image, true)).isEqualTo("FP16:1,3,1,224");
        assertThat(TrialProcess.input(image, false)).isEqualTo("FP16:3,1,224");
        assertThat(TrialMain.zeros("INT64:2,3").shape()).containsExactly(2, 3);
        assertThat(TrialMain.zeros("INT64:2,3").data().remaining()).isEqualTo(48);
    }

    @Test
    void signalsAreNamed() {
        assertThat(TrialProcess.ending(139)).isEqualTo("SIGSEGV, exit status 139");
        assertThat(TrialProcess.ending(134)).isEqualTo("SIGABRT, exit status 134");
        assertThat(TrialProcess.ending(1)).isEqualTo("exit status 1");
    }
}
