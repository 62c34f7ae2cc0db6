package dev.torchlight.bench.raw;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import dev.torchlight.bench.result.BenchReport;
import dev.torchlight.bench.result.LevelResult;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The raw bench on the real engine and the bundled demo model. */
class RawBenchTest {

    /** The repository's bundled model repository: the first {@code models/mlp} upwards from here. */
    static Path demoRepository() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("models/mlp/config.yaml"))) {
                return dir.resolve("models");
            }
        }
        throw new IllegalStateException("no models/mlp above " + Path.of("").toAbsolutePath());
    }

    @Test
    void measuresEachBatchSizeOfTheDemoModel() throws InterruptedException {
        RawOptions options = new RawOptions(demoRepository(), "mlp", null, List.of(1, 4), 1,
                Duration.ofMillis(100), Duration.ofMillis(300), RawOptions.DEFAULT_SEED);
        ByteArrayOutputStream progress = new ByteArrayOutputStream();

        BenchReport report = new RawBench().run(options, new PrintStream(progress, true, StandardCharsets.UTF_8));

        assertThat(report.tool()).isEqualTo("torchlight-bench");
        assertThat(report.protocol()).isEqualTo("raw");
        assertThat(report.model()).isEqualTo("mlp");
        assertThat(report.url()).isEqualTo("raw:" + demoRepository().toAbsolutePath().normalize());
        assertThat(report.note()).isNull();
        assertThat(report.host().cores()).isPositive();
        assertThat(report.results()).extracting(LevelResult::batchSize).containsExactly(1, 4);
        for (LevelResult level : report.results()) {
            assertThat(level.concurrency()).isEqualTo(1);
            assertThat(level.rate()).isNull();
            assertThat(level.errors()).isZero();
            assertThat(level.errorsByKind()).isEmpty();
            assertThat(level.requests()).isPositive();
            // 300 ms measured: calls per second is the call count over about 0.3 s
            assertThat(level.throughputRps()).isBetween(level.requests() / 0.6, level.requests() / 0.29);
            assertThat(level.itemsPerS()).isCloseTo(level.throughputRps() * level.batchSize(), offset(1e-6));
            assertThat(level.p50Ms()).isPositive().isLessThanOrEqualTo(level.p90Ms());
            assertThat(level.p90Ms()).isLessThanOrEqualTo(level.p99Ms());
            assertThat(level.p99Ms()).isLessThanOrEqualTo(level.p999Ms());
            assertThat(level.p999Ms()).isLessThanOrEqualTo(level.maxMs());
        }
        assertThat(progress.toString(StandardCharsets.UTF_8))
                .contains("raw mlp batch 1, 1 thread(s)").contains("raw mlp batch 4, 1 thread(s)");
    }

    @Test
    void aRaggedModelGetsItsIdsFlatWithTheirOffsets() throws InterruptedException {
        // ragged_bag takes its ids as one 1-D tensor plus the offsets the server makes: the ids as
        // requests send them ([batch, length]) and no offsets would fail every call.
        Path fixtures = demoRepository().resolveSibling("testdata/models");
        RawOptions options = new RawOptions(fixtures, "ragged_bag", null, List.of(1, 8), 1,
                Duration.ofMillis(50), Duration.ofMillis(200), RawOptions.DEFAULT_SEED);

        BenchReport report = new RawBench().run(options, new PrintStream(new ByteArrayOutputStream(), true,
                StandardCharsets.UTF_8));

        assertThat(report.note()).isNull();
        assertThat(report.results()).extracting(LevelResult::batchSize).containsExactly(1, 8);
        assertThat(report.results()).allSatisfy(level -> {
            assertThat(level.errors()).isZero();
            assertThat(level.requests()).isPositive();
        });
    }
}
