package dev.torchlight.bench.raw;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What {@link RawBench} runs: one model of a repository, through the engine alone, at each batch size.
 *
 * @param modelRepository the model repository ({@code <repo>/<model>/config.yaml})
 * @param model model name (its folder)
 * @param version model version to load, or null for the newest
 * @param batchSizes rows per engine call, one result each, in this order; a model with
 *     {@code max_batch_size: 0} runs unbatched once, whatever this says
 * @param threads engine threads, each calling its own model instance
 * @param warmup unmeasured calls per thread before each batch size is measured
 * @param duration measured time per batch size
 * @param seed seed of the random input data
 * @param replayFile a recording of v2 requests ({@code --replay}) whose first rows make each batch
 *     instead of random data; null for random data
 */
public record RawOptions(
        Path modelRepository,
        String model,
        Long version,
        List<Integer> batchSizes,
        int threads,
        Duration warmup,
        Duration duration,
        long seed,
        Path replayFile) {

    /** The seed used when none is given, so two runs feed the model the same numbers. */
    public static final long DEFAULT_SEED = 42;

    public RawOptions {
        Objects.requireNonNull(modelRepository, "modelRepository");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(warmup, "warmup");
        Objects.requireNonNull(duration, "duration");
        batchSizes = List.copyOf(batchSizes);
        if (batchSizes.isEmpty() || batchSizes.stream().anyMatch(b -> b < 1)) {
            throw new IllegalArgumentException("batch sizes must be positive integers, got " + batchSizes);
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        if (version != null && version < 1) {
            throw new IllegalArgumentException("version must be a positive integer, got " + version);
        }
        if (warmup.isNegative()) {
            throw new IllegalArgumentException("warm-up must not be negative, got " + warmup);
        }
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException("duration must be positive, got " + duration);
        }
    }

    /** Options with random input data. */
    public RawOptions(Path modelRepository, String model, Long version, List<Integer> batchSizes, int threads,
            Duration warmup, Duration duration, long seed) {
        this(modelRepository, model, version, batchSizes, threads, warmup, duration, seed, null);
    }

    /** These options with batches made of the recording's first rows instead of random data. */
    public RawOptions withReplay(Path replayFile) {
        return new RawOptions(modelRepository, model, version, batchSizes, threads, warmup, duration, seed, replayFile);
    }

    /** The newest version, one thread, 2 s warm-up, 10 s measured, the default seed. */
    public static RawOptions of(Path modelRepository, String model, List<Integer> batchSizes) {
        return new RawOptions(modelRepository, model, null, batchSizes, 1,
                Duration.ofSeconds(2), Duration.ofSeconds(10), DEFAULT_SEED);
    }
}
