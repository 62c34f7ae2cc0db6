package dev.torchlight.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.api.ServingException;
import dev.torchlight.registry.LoadOutcome;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading, unloading, reloading and change detection of a runtime on a copy of the fixtures. */
class LifecycleTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path repository;

    @Test
    void unloadedVersionsAndModelsRefuseRequestsUntilLoadedAgain() {
        Fixtures.copy("mlp", repository);
        try (Torchlight torchlight = Torchlight.builder(repository).intraOpThreads(1).open()) {
            Model mlp = torchlight.model("mlp");
            mlp.version(1).unload();
            assertThat(mlp.version(1).ready()).isFalse();
            assertThat(mlp.version(1).infer(Fixtures.mlpRow(0))).failsWithin(WAIT).withThrowableThat()
                    .havingCause().isInstanceOf(ServingException.NotFound.class);
            assertThat(mlp.infer(Fixtures.mlpRow(0))).succeedsWithin(WAIT);

            mlp.unload();
            assertThat(torchlight.models()).isEmpty();
            assertThat(torchlight.ready()).isFalse();
            assertThat(mlp.infer(Fixtures.mlpRow(0))).failsWithin(WAIT).withThrowableThat()
                    .havingCause().isInstanceOf(ServingException.NotFound.class);

            LoadOutcome loaded = mlp.load();
            assertThat(loaded.ok()).isTrue();
            assertThat(loaded.serving()).containsExactly(1L, 2L);
            assertThat(mlp.version(1).infer(Fixtures.mlpRow(0))).succeedsWithin(WAIT);
        }
    }

    @Test
    void reloadPicksUpANewVersionWhileTheOldOneServes() throws IOException {
        Fixtures.copy("mlp/1", repository);
        Files.copy(Fixtures.models().resolve("mlp/config.yaml"), repository.resolve("mlp/config.yaml"));
        try (Torchlight torchlight = Torchlight.open(repository)) {
            Model mlp = torchlight.model("mlp");
            assertThat(mlp.served().version()).isEqualTo(1);

            Fixtures.copy("mlp/2", repository);
            LoadOutcome reloaded = mlp.reload();

            assertThat(reloaded.loaded()).containsExactly(2L);
            assertThat(reloaded.serving()).containsExactly(1L, 2L);
            assertThat(mlp.infer(Fixtures.mlpRow(0))).succeedsWithin(WAIT);
            assertThat(mlp.served().version()).isEqualTo(2);
        }
    }

    @Test
    void pollingLoadsNewModelsAndVersionsAndUnloadsRemovedOnes() throws IOException, InterruptedException {
        Fixtures.copy("mlp/1", repository);
        Files.copy(Fixtures.models().resolve("mlp/config.yaml"), repository.resolve("mlp/config.yaml"));
        try (Torchlight torchlight = Torchlight.builder(repository).pollInterval(Duration.ofMillis(50)).open()) {
            Model mlp = torchlight.model("mlp");
            Fixtures.copy("mlp/2", repository);
            awaitTrue(() -> mlp.version(2).ready(), "version 2 found and loaded");
            assertThat(mlp.infer(Fixtures.mlpRow(0)).join()).hasSize(2);
            assertThat(mlp.served().version()).isEqualTo(2);

            Fixtures.copy("two_io", repository);
            awaitTrue(() -> torchlight.model("two_io").ready(), "new model two_io loaded");

            deleteTree(repository.resolve("two_io"));
            awaitTrue(() -> !torchlight.models().contains("two_io"), "two_io unloaded");
        }
    }

    @Test
    void closingAnswersWhatIsQueuedThenRefuses() {
        Fixtures.copy("mlp", repository);
        Torchlight torchlight = Torchlight.open(repository);
        Model mlp = torchlight.model("mlp");
        var pending = mlp.infer(Fixtures.mlpRow(3));
        torchlight.close();
        torchlight.close(); // idempotent

        assertThat(pending).succeedsWithin(WAIT);
        assertThat(torchlight.ready()).isFalse();
        assertThat(mlp.infer(Fixtures.mlpRow(3))).failsWithin(WAIT).withThrowableThat()
                .havingCause().isInstanceOf(ServingException.class);
    }

    /** Polls {@code condition} until it holds or a deadline passes; the runtime's scans run on their own thread. */
    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 60 s: " + what);
            }
            Thread.sleep(10); // polling with a deadline; spinning would starve the loads of CPU
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
