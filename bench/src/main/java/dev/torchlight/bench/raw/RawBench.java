package dev.torchlight.bench.raw;

import dev.torchlight.api.Tensor;
import dev.torchlight.bench.load.ReplayFile;
import dev.torchlight.bench.result.BenchReport;
import dev.torchlight.bench.result.HostInfo;
import dev.torchlight.bench.result.LevelResult;
import dev.torchlight.config.ConfigException;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.ModelConfigParser;
import dev.torchlight.engine.Engine;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.engine.Placement;
import dev.torchlight.engine.libtorch.LibTorchEngine;
import dev.torchlight.repository.ModelRepository;
import dev.torchlight.repository.ModelSource;
import dev.torchlight.scheduler.BatchLayout;
import dev.torchlight.scheduler.InstancePlacement;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The raw-engine baseline: runs a repository's model through the engine adapter alone, with no
 * server, queue or protocol in the way, and reports it in the same shape as the HTTP bench.
 * Each batch size is one result; its {@code concurrency} is the number of engine threads.
 */
public final class RawBench {
    /** The {@code protocol} of every raw report. */
    public static final String PROTOCOL = "raw";

    private final Engine engine;

    /** Benchmarks with the libtorch engine. */
    public RawBench() {
        this(new LibTorchEngine());
    }

    /** Benchmarks with {@code engine}, e.g. a fake in tests. */
    public RawBench(Engine engine) {
        this.engine = Objects.requireNonNull(engine, "engine");
    }

    /**
     * Loads {@code options.threads()} instances of the model where its {@code instance_group} places
     * them and measures each batch size in turn.
     * Engine errors are counted per level; a batch size whose every call failed ends the run, and
     * the report keeps the levels measured so far with a {@code note} saying why.
     *
     * @param progress where a line per second goes (stderr in the CLI)
     * @throws ConfigException when the repository, model or version is missing,
     *     the config is invalid or it asks for GPUs the engine does not have
     * @throws dev.torchlight.engine.EngineException when the model cannot be loaded
     * @throws IllegalArgumentException when a batch size exceeds the model's {@code max_batch_size}, or
     *     the recording of {@code --replay} does not fit the model's inputs
     * @throws dev.torchlight.bench.load.LoadBenchException when the recording cannot be read
     */
    public BenchReport run(RawOptions options, PrintStream progress) throws InterruptedException {
        String date = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        ModelSource source = new ModelRepository(options.modelRepository()).scan(List.of(options.model())).getFirst();
        ModelConfig config = ModelConfigParser.parse(source.configFile(), options.model());
        Path file = modelFile(source, options.version());
        List<Integer> batches = batches(config, options.batchSizes(), progress);
        ReplayFile recording = options.replayFile() == null ? null : ReplayFile.read(options.replayFile());
        // Where the server would put them: the config's instance groups, taken in turn when --threads
        // asks for more instances than they hold (a GPU model is measured on its GPU, not the CPU).
        List<Placement> placements = InstancePlacement.scaled(InstancePlacement.of(config, engine.gpuCount()),
                options.threads());

        List<LevelResult> results = new ArrayList<>();
        String note = null;
        List<LoadedModel> instances = new ArrayList<>();
        try {
            for (Placement placement : placements) {
                instances.add(engine.load(config, file, placement));
            }
            for (int batch : batches) {
                progress.printf(Locale.ROOT, "raw %s batch %d, %d thread(s) on %s: warm-up %d ms, measuring %d ms%n",
                        options.model(), batch, options.threads(), placements.stream().distinct().toList(),
                        options.warmup().toMillis(), options.duration().toMillis());
                String label = "b=" + batch;
                // As the server hands a request alone to the engine: ragged inputs flat, batch inputs added.
                List<Tensor> inputs = BatchLayout.of(config).modelInputs(recording == null
                        ? RandomTensors.of(config.inputs(), config.batched() ? batch : 0, options.seed())
                        : ReplayedTensors.of(config, recording, batch));
                LevelRun level = new LevelRun(instances, inputs, batch, label, progress);
                LevelResult result = level.run(options.warmup(), options.duration());
                results.add(result);
                if (result.errors() > 0 && result.errors() == result.requests()) {
                    note = "batch size " + batch + ": every engine call failed: " + level.firstError();
                    progress.println(note);
                    break;
                }
            }
        } finally {
            instances.forEach(LoadedModel::close);
        }
        return new BenchReport(BenchReport.TOOL, version(), date, HostInfo.current(),
                "raw:" + options.modelRepository().toAbsolutePath().normalize(), options.model(), PROTOCOL,
                results, note);
    }

    private static Path modelFile(ModelSource source, Long version) {
        if (source.versions().isEmpty()) {
            throw new ConfigException("model '" + source.name() + "' in "
                    + source.directory() + " has no version folder (<model>/<version>/model.pt)");
        }
        if (version == null) {
            return source.versions().lastEntry().getValue();
        }
        Path file = source.versions().get(version);
        if (file == null) {
            throw new ConfigException("model '" + source.name() + "' has no version "
                    + version + "; it has " + source.versions().keySet());
        }
        return file;
    }

    /** The batch sizes to run: checked against the config, each once, in the order given. */
    static List<Integer> batches(ModelConfig config, List<Integer> requested, PrintStream progress) {
        if (!config.batched()) {
            // No batch dimension: one call is one item, so there is exactly one level to measure.
            if (!requested.equals(List.of(1))) {
                progress.println("model '" + config.name() + "' has max_batch_size 0 (no batch dimension): "
                        + "running unbatched, reported as batch size 1");
            }
            return List.of(1);
        }
        for (int b : requested) {
            if (b > config.maxBatchSize()) {
                throw new IllegalArgumentException("batch size " + b + " exceeds model '" + config.name()
                        + "' max_batch_size " + config.maxBatchSize());
            }
        }
        return List.copyOf(new LinkedHashSet<>(requested));
    }

    /** torchlight's version from the jar manifest; {@code unknown} when run from classes. */
    static String version() {
        String v = RawBench.class.getPackage().getImplementationVersion();
        return v == null ? "unknown" : v;
    }
}
