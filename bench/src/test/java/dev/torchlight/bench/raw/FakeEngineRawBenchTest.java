package dev.torchlight.bench.raw;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.api.DataType;
import dev.torchlight.api.Tensor;
import dev.torchlight.bench.result.BenchReport;
import dev.torchlight.bench.result.LevelResult;
import dev.torchlight.config.ConfigException;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.engine.Engine;
import dev.torchlight.engine.EngineException;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.engine.Placement;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RawBench's bookkeeping against a fake engine: no libtorch, a few milliseconds per test. */
class FakeEngineRawBenchTest {
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    @TempDir
    Path repo;

    /** An engine whose instances answer with {@code answer} and remember the shapes and threads they saw. */
    private static final class FakeEngine implements Engine {
        final List<long[]> shapes = new CopyOnWriteArrayList<>();
        final Set<Thread> threads = ConcurrentHashMap.newKeySet();
        final List<FakeModel> loaded = new CopyOnWriteArrayList<>();
        final List<Placement> placements = new CopyOnWriteArrayList<>();
        final Function<List<Tensor>, List<Tensor>> answer;
        final int gpus;
        Path loadedFile;

        FakeEngine(Function<List<Tensor>, List<Tensor>> answer) {
            this(answer, 0);
        }

        FakeEngine(Function<List<Tensor>, List<Tensor>> answer, int gpus) {
            this.answer = answer;
            this.gpus = gpus;
        }

        @Override
        public int gpuCount() {
            return gpus;
        }

        @Override
        public String name() {
            return "fake";
        }

        @Override
        public LoadedModel load(ModelConfig config, Path modelFile, Placement placement) {
            loadedFile = modelFile;
            placements.add(placement);
            FakeModel model = new FakeModel();
            loaded.add(model);
            return model;
        }

        final class FakeModel implements LoadedModel {
            final AtomicInteger inUse = new AtomicInteger();
            volatile boolean usedConcurrently;
            volatile boolean closed;

            @Override
            public List<Tensor> infer(List<Tensor> inputs) {
                if (inUse.incrementAndGet() > 1) {
                    usedConcurrently = true;
                }
                try {
                    threads.add(Thread.currentThread());
                    shapes.add(inputs.getFirst().shape());
                    return answer.apply(inputs);
                } finally {
                    inUse.decrementAndGet();
                }
            }

            @Override
            public void close() {
                closed = true;
            }
        }
    }

    private void model(String name, int maxBatchSize, int... versions) throws IOException {
        model(name, maxBatchSize, "", versions);
    }

    /** A model whose config ends with {@code extra} (e.g. an instance_group). */
    private void model(String name, int maxBatchSize, String extra, int... versions) throws IOException {
        Path dir = Files.createDirectories(repo.resolve(name));
        Files.writeString(dir.resolve("config.yaml"), """
                name: %s
                platform: torchscript
                max_batch_size: %d
                inputs:
                  - name: x
                    datatype: INT64
                    shape: [3, -1]
                outputs:
                  - name: y
                    datatype: FP32
                    shape: [1]
                """.formatted(name, maxBatchSize) + extra);
        for (int v : versions) {
            Files.createDirectories(dir.resolve(Integer.toString(v)));
            Files.writeString(dir.resolve(v + "/model.pt"), "fake");
        }
    }

    private RawOptions options(String model, Long version, List<Integer> batches, int threads) {
        return new RawOptions(repo, model, version, batches, threads, Duration.ofMillis(5), Duration.ofMillis(30), 7);
    }

    @Test
    void threadsNeverShareAnInstanceAndCallWithBatchedShapesAndTheNewestVersion() throws Exception {
        model("m", 8, 1, 2);
        FakeEngine engine = new FakeEngine(in -> List.of());

        BenchReport report = new RawBench(engine).run(options("m", null, List.of(2, 8, 2), 3), QUIET);

        assertThat(engine.loadedFile).isEqualTo(repo.resolve("m/2/model.pt"));
        assertThat(report.results()).extracting(LevelResult::batchSize).containsExactly(2, 8);
        assertThat(report.results()).extracting(LevelResult::concurrency).containsOnly(3);
        assertThat(engine.loaded).hasSize(3).allSatisfy(m -> {
            assertThat(m.usedConcurrently).isFalse();
            assertThat(m.closed).isTrue();
        });
        assertThat(engine.threads).hasSize(3 * 2); // three per batch size
        assertThat(engine.shapes).extracting(s -> s.length).containsOnly(3);
        assertThat(engine.shapes).extracting(s -> s[0]).containsOnly(2L, 8L);
        assertThat(engine.shapes).extracting(s -> s[1] + "x" + s[2]).containsOnly("3x1");
    }

    @Test
    void withAReplayEachBatchIsTheRecordingsFirstRows() throws Exception {
        model("m", 8, 1); // x: INT64 [3, -1]
        Path stream = Files.write(repo.resolve("stream.jsonl"), List.of(
                "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"INT64\",\"shape\":[1,3,1],\"data\":[1,2,3]}]}",
                "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"INT64\",\"shape\":[2,3,1],\"data\":[4,5,6,7,8,9]}]}"));
        List<List<Long>> seen = new CopyOnWriteArrayList<>();
        FakeEngine engine = new FakeEngine(in -> {
            List<Long> values = new ArrayList<>();
            LongBuffer data = in.getFirst().data().asLongBuffer();
            while (data.hasRemaining()) {
                values.add(data.get());
            }
            seen.add(values);
            return List.of();
        });

        new RawBench(engine).run(options("m", null, List.of(2, 4), 1).withReplay(stream), QUIET);

        assertThat(engine.shapes).extracting(s -> s[0] + "x" + s[1] + "x" + s[2]).containsOnly("2x3x1", "4x3x1");
        assertThat(seen).contains(List.of(1L, 2L, 3L, 4L, 5L, 6L),
                List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 1L, 2L, 3L));
    }

    @Test
    void aReplayThatDoesNotFitTheModelIsRefusedBeforeAnythingRuns() throws Exception {
        model("m", 8, 1);
        Path stream = Files.write(repo.resolve("stream.jsonl"), List.of(
                "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,3,1],\"data\":[1,2,3]}]}"));
        FakeEngine engine = new FakeEngine(in -> List.of());

        assertThatThrownBy(() -> new RawBench(engine).run(options("m", null, List.of(2), 1).withReplay(stream), QUIET))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("the recording's input 'x' is FP32[3, 1] per row; model 'm' declares INT64[3, -1]");
        assertThat(engine.shapes).isEmpty();
    }

    @Test
    void instancesArePlacedWhereTheConfigAsks() throws Exception {
        model("cpu", 8, 1);
        model("gpu", 8, """
                instance_group:
                  - kind: GPU
                    devices: [1]
                  - kind: CPU
                """, 1);
        FakeEngine engine = new FakeEngine(in -> List.of(), 2);

        new RawBench(engine).run(options("cpu", null, List.of(1), 1), QUIET);
        new RawBench(engine).run(options("gpu", null, List.of(1), 3), QUIET);

        // The groups' placements in turn, as the server scales a model.
        assertThat(engine.placements).containsExactly(Placement.CPU,
                Placement.gpu(1), Placement.CPU, Placement.gpu(1));
    }

    @Test
    void aGpuModelOnAnEngineWithoutGpusFailsBeforeAnythingLoads() throws Exception {
        model("gpu", 8, "instance_group: [{kind: GPU}]\n", 1);
        FakeEngine engine = new FakeEngine(in -> List.of());

        assertThatThrownBy(() -> new RawBench(engine).run(options("gpu", null, List.of(1), 1), QUIET))
                .isInstanceOf(ConfigException.class).hasMessageContaining("needs a GPU");
        assertThat(engine.loaded).isEmpty();
    }

    @Test
    void aPinnedVersionIsLoaded() throws Exception {
        model("m", 8, 1, 2);
        FakeEngine engine = new FakeEngine(in -> List.of());

        new RawBench(engine).run(options("m", 1L, List.of(1), 1), QUIET);

        assertThat(engine.loadedFile).isEqualTo(repo.resolve("m/1/model.pt"));
    }

    @Test
    void anUnbatchedModelRunsOnceWithoutABatchDimension() throws Exception {
        model("m", 0, 1);
        FakeEngine engine = new FakeEngine(in -> List.of());

        BenchReport report = new RawBench(engine).run(options("m", null, List.of(1, 8, 64), 1), QUIET);

        assertThat(report.results()).extracting(LevelResult::batchSize).containsExactly(1);
        assertThat(engine.shapes).extracting(s -> s.length).containsOnly(2);
    }

    @Test
    void engineErrorsAreCountedByKindAndAllFailingEndsTheRunWithANote() throws Exception {
        model("m", 8, 1);
        FakeEngine engine = new FakeEngine(in -> {
            if (in.getFirst().dim(0) == 4) {
                throw new EngineException("model 'm': out of memory");
            }
            return List.of();
        });

        BenchReport report = new RawBench(engine).run(options("m", null, List.of(1, 4, 8), 1), QUIET);

        assertThat(report.results()).extracting(LevelResult::batchSize).containsExactly(1, 4);
        LevelResult failed = report.results().get(1);
        assertThat(failed.errors()).isPositive().isEqualTo(failed.requests());
        assertThat(failed.errorsByKind()).isEqualTo(Map.of("engine", failed.errors()));
        assertThat(failed.throughputRps()).isZero();
        assertThat(report.results().getFirst().errors()).isZero();
        assertThat(report.note()).isEqualTo("batch size 4: every engine call failed: model 'm': out of memory");
    }

    @Test
    void badRequestsFailBeforeAnythingLoads() throws Exception {
        model("m", 8, 1);
        FakeEngine engine = new FakeEngine(in -> List.of());
        RawBench bench = new RawBench(engine);

        assertThatThrownBy(() -> bench.run(options("m", null, List.of(4, 16), 1), QUIET))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("max_batch_size 8");
        assertThatThrownBy(() -> bench.run(options("m", 3L, List.of(1), 1), QUIET))
                .isInstanceOf(ConfigException.class).hasMessageContaining("no version 3");
        assertThatThrownBy(() -> bench.run(options("nope", null, List.of(1), 1), QUIET))
                .isInstanceOf(ConfigException.class).hasMessageContaining("nope");
        assertThat(engine.loaded).isEmpty();
    }

    @Test
    void optionsRejectNonsense() {
        assertThatThrownBy(() -> options("m", null, List.of(), 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> options("m", null, List.of(0), 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> options("m", null, List.of(1), 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RawOptions(repo, "m", null, List.of(1), 1, Duration.ZERO, Duration.ZERO, 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void randomInputsAreTheSameForTheSameSeed() {
        TensorSpec spec = new TensorSpec("x", DataType.FP32, new long[] {4});
        Tensor a = RandomTensors.of(List.of(spec), 2, 9).getFirst();
        Tensor b = RandomTensors.of(List.of(spec), 2, 9).getFirst();
        Tensor c = RandomTensors.of(List.of(spec), 2, 10).getFirst();

        assertThat(a.shape()).containsExactly(2, 4);
        assertThat(a.data()).isEqualTo(b.data()).isNotEqualTo(c.data());
        assertThat(a.data().isDirect()).isTrue();
    }
}
