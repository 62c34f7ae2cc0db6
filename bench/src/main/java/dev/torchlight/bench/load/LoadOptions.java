package dev.torchlight.bench.load;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What {@link LoadBench} runs: a sweep of closed-loop concurrency levels or of open-loop rates
 * against one model. {@link #builder(URI, String)} fills in the defaults.
 *
 * @param url the server's base URL, {@code http://host:port[/prefix]}
 * @param model model name; may be null for {@link Protocol#HEALTH}
 * @param protocol how requests are made
 * @param concurrency closed loop: requests kept in flight, one result per level; empty for open loop
 * @param rates open loop: target requests per second, one result per level; empty for closed loop
 * @param warmup unmeasured time at the start of every level
 * @param duration measured time of every level
 * @param batch rows per request (the batch dimension of generated data; items/s = successes/s × batch)
 * @param inputFile a request body sent as is with every request instead of generated data; null for none
 * @param seed seed of the generated data
 * @param requestTimeout how long a request may wait for its answer (also the connect timeout)
 * @param connections open loop: most connections opened to keep up with the rate
 * @param modelVersion model version to address; null for the server's default
 * @param imageDir image files (JPEG, PNG) sent one per request, cycling, to a model with an image
 *     handler: raw bodies for TorchServe, base64 BYTES inputs for v2; null for tensor data
 * @param replayFile a recorded stream of v2 request bodies ({@link ReplayFile}) sent in order,
 *     cycling, in place of generated data; null for none
 * @param stopAboveP99Ms open loop: end the sweep after the first rate whose p99 exceeds this many
 *     milliseconds or that had errors; null to run every rate
 * @param firstWarmup unmeasured time of the first level, in place of {@code warmup}: a fresh load
 *     generator's JIT takes seconds to settle, and an open loop that falls behind meanwhile measures
 *     its own backlog
 */
public record LoadOptions(
        URI url,
        String model,
        Protocol protocol,
        List<Integer> concurrency,
        List<Double> rates,
        Duration warmup,
        Duration duration,
        int batch,
        Path inputFile,
        long seed,
        Duration requestTimeout,
        int connections,
        String modelVersion,
        Path imageDir,
        Path replayFile,
        Double stopAboveP99Ms,
        Duration firstWarmup) {

    /** The seed when none is given (the same as raw mode's). */
    public static final long DEFAULT_SEED = 42;
    public static final Duration DEFAULT_WARMUP = Duration.ofSeconds(2);
    public static final Duration DEFAULT_DURATION = Duration.ofSeconds(10);
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);
    public static final int DEFAULT_CONNECTIONS = 64;

    public LoadOptions {
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(warmup, "warmup");
        Objects.requireNonNull(duration, "duration");
        Objects.requireNonNull(requestTimeout, "requestTimeout");
        concurrency = concurrency == null ? List.of() : List.copyOf(concurrency);
        rates = rates == null ? List.of() : List.copyOf(rates);
        if (concurrency.isEmpty() == rates.isEmpty()) {
            throw new IllegalArgumentException("give either concurrency levels (closed loop) or rates (open loop), "
                    + "not " + (concurrency.isEmpty() ? "neither" : "both"));
        }
        if (concurrency.stream().anyMatch(c -> c < 1)) {
            throw new IllegalArgumentException("concurrency levels must be positive integers, got " + concurrency);
        }
        if (rates.stream().anyMatch(r -> !(r > 0) || r.isInfinite())) {
            throw new IllegalArgumentException("rates must be positive numbers of requests/s, got " + rates);
        }
        if (protocol.sendsInputs() && (model == null || model.isBlank())) {
            throw new IllegalArgumentException("--protocol " + protocol.wireName() + " needs a model name");
        }
        if (warmup.isNegative()) {
            throw new IllegalArgumentException("warm-up must not be negative, got " + warmup);
        }
        firstWarmup = firstWarmup == null ? warmup : firstWarmup;
        if (firstWarmup.isNegative()) {
            throw new IllegalArgumentException("first warm-up must not be negative, got " + firstWarmup);
        }
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException("duration must be positive, got " + duration);
        }
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        }
        if (requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("request timeout must be positive, got " + requestTimeout);
        }
        if ((imageDir != null ? 1 : 0) + (inputFile != null ? 1 : 0) + (replayFile != null ? 1 : 0) > 1) {
            throw new IllegalArgumentException("give one of --image-dir, --input-file and --replay");
        }
        if (replayFile != null && !protocol.sendsInputs()) {
            throw new IllegalArgumentException("--protocol " + protocol.wireName() + " sends no inputs to replay");
        }
        if (replayFile != null && batch != 1) {
            throw new IllegalArgumentException("--batch does not apply to --replay: the recorded requests carry "
                    + "their own rows");
        }
        if (stopAboveP99Ms != null && (!(stopAboveP99Ms > 0) || stopAboveP99Ms.isInfinite() || !concurrency.isEmpty())) {
            throw new IllegalArgumentException("--stop-above-p99 takes a positive number of milliseconds and applies to "
                    + "an open-loop sweep (--rate), got " + stopAboveP99Ms + (concurrency.isEmpty() ? "" : " with --concurrency"));
        }
        if (connections < 1) {
            throw new IllegalArgumentException("connections must be at least 1, got " + connections);
        }
    }

    /** Options for {@code model} at {@code url} with every default: v2-json, 2 s warm-up, 10 s, batch 1. */
    public static Builder builder(URI url, String model) {
        return new Builder(url, model);
    }

    /** True for a closed-loop (concurrency) sweep, false for an open-loop (rate) sweep. */
    public boolean closedLoop() {
        return !concurrency.isEmpty();
    }

    /** Builds {@link LoadOptions}; every setter returns this builder. */
    public static final class Builder {
        private final URI url;
        private final String model;
        private Protocol protocol = Protocol.V2_JSON;
        private List<Integer> concurrency = List.of();
        private List<Double> rates = List.of();
        private Duration warmup = DEFAULT_WARMUP;
        private Duration duration = DEFAULT_DURATION;
        private int batch = 1;
        private Path inputFile;
        private long seed = DEFAULT_SEED;
        private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
        private int connections = DEFAULT_CONNECTIONS;
        private String modelVersion;
        private Path imageDir;
        private Path replayFile;
        private Double stopAboveP99Ms;
        private Duration firstWarmup;

        private Builder(URI url, String model) {
            this.url = url;
            this.model = model;
        }

        public Builder protocol(Protocol protocol) {
            this.protocol = protocol;
            return this;
        }

        public Builder concurrency(List<Integer> levels) {
            this.concurrency = levels;
            return this;
        }

        public Builder rates(List<Double> levels) {
            this.rates = levels;
            return this;
        }

        public Builder warmup(Duration warmup) {
            this.warmup = warmup;
            return this;
        }

        public Builder duration(Duration duration) {
            this.duration = duration;
            return this;
        }

        public Builder batch(int batch) {
            this.batch = batch;
            return this;
        }

        public Builder inputFile(Path inputFile) {
            this.inputFile = inputFile;
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public Builder requestTimeout(Duration requestTimeout) {
            this.requestTimeout = requestTimeout;
            return this;
        }

        public Builder connections(int connections) {
            this.connections = connections;
            return this;
        }

        public Builder modelVersion(String modelVersion) {
            this.modelVersion = modelVersion;
            return this;
        }

        public Builder imageDir(Path imageDir) {
            this.imageDir = imageDir;
            return this;
        }

        public Builder replayFile(Path replayFile) {
            this.replayFile = replayFile;
            return this;
        }

        /** The first level's warm-up; null (the default) for {@link #warmup(Duration)}'s. */
        public Builder firstWarmup(Duration firstWarmup) {
            this.firstWarmup = firstWarmup;
            return this;
        }

        public Builder stopAboveP99Ms(Double stopAboveP99Ms) {
            this.stopAboveP99Ms = stopAboveP99Ms;
            return this;
        }

        /** @throws IllegalArgumentException when the options do not make a run (see {@link LoadOptions}) */
        public LoadOptions build() {
            return new LoadOptions(url, model, protocol, concurrency, rates, warmup, duration, batch, inputFile,
                    seed, requestTimeout, connections, modelVersion, imageDir, replayFile,
                    stopAboveP99Ms, firstWarmup);
        }
    }
}
