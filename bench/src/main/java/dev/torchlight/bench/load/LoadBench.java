package dev.torchlight.bench.load;

import dev.torchlight.bench.http.HttpLoadClient;
import dev.torchlight.bench.http.HttpTarget;
import dev.torchlight.bench.result.BenchReport;
import dev.torchlight.bench.result.HostInfo;
import dev.torchlight.bench.result.LevelResult;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP load generator: runs each level of a closed-loop (concurrency) or open-loop (rate)
 * sweep against a server, each with its own warm-up and measured window, and reports what it
 * measured. Errors are counted, never fatal; a server that stops accepting connections ends the
 * run early with the results so far and a {@link BenchReport#note()}.
 *
 * <p>Usage: {@code BenchReport report = new LoadBench(version).run(options, System.err);}
 */
public final class LoadBench {
    /** How long every connection attempt must fail before the server counts as gone. */
    static final Duration GONE_AFTER = Duration.ofSeconds(2);
    private static final long TICK_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final String version;
    private final NanoClock clock;
    private final Duration goneAfter;
    private final boolean ownsProcess;

    /** A load generator reporting {@code version} as the tool's version. */
    public LoadBench(String version) {
        this(version, NanoClock.SYSTEM, GONE_AFTER, false);
    }

    /**
     * A load generator that has its JVM to itself (the {@code torchlight bench} command): when a
     * level's measured window begins, it also moves the JVM's JIT compiler threads to the idle
     * scheduling class ({@link CompilerThreads}), which would slow the JIT of anything else in the
     * process, such as a server embedded beside it.
     */
    public static LoadBench owningProcess(String version) {
        return new LoadBench(version, NanoClock.SYSTEM, GONE_AFTER, true);
    }

    /** A load generator reporting the bench jar's own version ("unknown" when it has none). */
    public LoadBench() {
        this(packageVersion());
    }

    LoadBench(String version, NanoClock clock, Duration goneAfter) {
        this(version, clock, goneAfter, false);
    }

    private LoadBench(String version, NanoClock clock, Duration goneAfter, boolean ownsProcess) {
        this.version = version;
        this.clock = clock;
        this.goneAfter = goneAfter;
        this.ownsProcess = ownsProcess;
    }

    /**
     * Runs every level of the sweep in order; with {@link LoadOptions#stopAboveP99Ms()}, up to the
     * first open-loop level that misses it.
     *
     * @param options what to run
     * @param progress where a progress line goes once a second (typically stderr)
     * @return the results, one per level run; fewer, with a note, when the server went away
     * @throws LoadBenchException when the run cannot start: a bad URL, an unreadable input file or
     *     recording, or model metadata that cannot be read (the message says to pass {@code --input-file})
     */
    public BenchReport run(LoadOptions options, PrintStream progress) {
        HttpTarget target;
        try {
            target = HttpTarget.of(options.url());
        } catch (IllegalArgumentException e) {
            throw new LoadBenchException(e.getMessage(), e);
        }
        boolean grpc = options.protocol().grpc();
        String date = Instant.now().toString();
        List<LevelResult> results = new ArrayList<>();
        String note = null;
        // A gRPC run has no HTTP client or pool, an HTTP run no gRPC channels (null resources are not closed).
        try (RequestPool requests = grpc ? null : RequestPool.build(target, options);
                HttpLoadClient client = grpc ? null : new HttpLoadClient(
                        target, HttpLoadClient.defaultIoThreads(), options.requestTimeout());
                GrpcLoad grpcLoad = grpc ? GrpcLoad.open(target, options) : null) {
            // The garbage of preparing the requests (a --replay recording's parse: millions of numbers) is
            // collected now rather than by a collector competing with the first level for the cores.
            System.gc();
            long runStart = clock.nanoTime();
            int levels = options.closedLoop() ? options.concurrency().size() : options.rates().size();
            for (int i = 0; i < levels && note == null; i++) {
                ServerWatch watch = new ServerWatch(clock, goneAfter);
                LoadLevel level = grpc && options.closedLoop()
                        ? new GrpcLevel(grpcLoad, options.protocol(), watch, options.batch(),
                                options.concurrency().get(i), options.requestTimeout())
                        : options.protocol() == Protocol.GRPC_STREAM
                        ? new GrpcStreamOpenLoopLevel(grpcLoad, watch, options.batch(), options.rates().get(i),
                                options.requestTimeout(), clock)
                        : grpc
                        ? new GrpcOpenLoopLevel(grpcLoad, watch, options.batch(), options.rates().get(i),
                                options.requestTimeout(), clock)
                        : options.closedLoop()
                        ? new ClosedLoopLevel(client, requests, options.protocol(), watch, options.batch(),
                                options.concurrency().get(i))
                        : new OpenLoopLevel(client, requests, options.protocol(), watch, options.batch(),
                                options.rates().get(i), options.connections(), options.requestTimeout(), clock);
                Duration warmup = i == 0 ? options.firstWarmup() : options.warmup();
                boolean gone = runLevel(level, watch, warmup, options, runStart, progress);
                if (level.stats().measured()) {
                    LevelResult result = level.result();
                    results.add(result);
                    if (aboveObjective(options, result) && i < levels - 1) {
                        progress.printf(Locale.ROOT, "  %s: p99 %.3f ms, %d errors: above --stop-above-p99 %s ms,"
                                + " the higher rates are not run%n", level.label(), result.p99Ms(), result.errors(),
                                options.stopAboveP99Ms());
                        break;
                    }
                }
                if (gone) {
                    note = String.format(Locale.ROOT, "server at %s stopped answering at %.1f s: %s",
                            target, (watch.goneSince() - runStart) / 1e9, watch.reason());
                    progress.println("  " + note);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            note = "interrupted";
        }
        // The health protocol needs no model: an empty name keeps every writer simple.
        String model = options.model() == null ? "" : options.model();
        return new BenchReport(BenchReport.TOOL, version, date, HostInfo.current(), options.url().toString(),
                model, options.protocol().wireName(), results, note);
    }

    /** Whether an open-loop level missed the objective that ends the sweep. */
    static boolean aboveObjective(LoadOptions options, LevelResult result) {
        Double limit = options.stopAboveP99Ms();
        return limit != null && (result.p99Ms() > limit || result.errors() > 0);
    }

    /** Warm-up, measured window, drain. Returns whether the server went away. */
    private boolean runLevel(LoadLevel level, ServerWatch watch, Duration warmupTime, LoadOptions options,
            long runStart, PrintStream progress) throws InterruptedException {
        LevelStats stats = level.stats();
        Ticker ticker = new Ticker(level, runStart, progress);
        boolean warmup = !warmupTime.isZero();
        if (!warmup) {
            stats.beginMeasure(clock.nanoTime()); // before the first send, so that every send is measured
        }
        level.start();
        try {
            boolean gone = warmup && ticker.until(clock.nanoTime() + warmupTime.toNanos(), watch);
            if (!gone) {
                if (ownsProcess) {
                    CompilerThreads.lower(); // the JIT yields to the load (compiler threads it starts later inherit it)
                }
                if (warmup) {
                    stats.beginMeasure(clock.nanoTime());
                }
                gone = ticker.until(clock.nanoTime() + options.duration().toNanos(), watch);
            }
            stats.finish(clock.nanoTime());
            level.stop();
            awaitInFlight(level, options.requestTimeout());
            stats.drained(clock.nanoTime());
            return gone;
        } finally {
            stats.finish(clock.nanoTime());
            level.closeConnections();
        }
    }

    /**
     * Lets the requests already sent end, so that they count. Each ends by the request timeout
     * (checked every 100 ms at most); the extra second only guards against a stuck connection.
     */
    private void awaitInFlight(LoadLevel level, Duration timeout) throws InterruptedException {
        long deadline = clock.nanoTime() + timeout.toNanos() + TimeUnit.SECONDS.toNanos(1);
        while ((level.stats().inFlight() > 0 || !level.idle()) && clock.nanoTime() < deadline) {
            Thread.sleep(1);
        }
    }

    /** Waits out a phase, printing a progress line every second and waking early if the server goes. */
    private final class Ticker {
        private final LoadLevel level;
        private final long runStart;
        private final PrintStream out;
        private long lastTick;
        private long lastSuccesses;

        Ticker(LoadLevel level, long runStart, PrintStream out) {
            this.level = level;
            this.runStart = runStart;
            this.out = out;
            this.lastTick = clock.nanoTime();
        }

        boolean until(long end, ServerWatch watch) throws InterruptedException {
            while (true) {
                long now = clock.nanoTime();
                if (now >= end) {
                    return false;
                }
                long nextTick = Math.min(end, lastTick + TICK_NANOS);
                if (watch.awaitGone(nextTick - now)) {
                    return true;
                }
                now = clock.nanoTime();
                if (now - lastTick >= TICK_NANOS) {
                    print(now);
                }
            }
        }

        private void print(long now) {
            LevelStats stats = level.stats();
            long successes = stats.successesSoFar();
            double perSecond = (successes - lastSuccesses) * 1e9 / (now - lastTick);
            lastSuccesses = successes;
            lastTick = now;
            double elapsed = (now - runStart) / 1e9;
            if (stats.phase() == LevelStats.Phase.MEASURE) {
                stats.rollLatencies();
                out.printf(Locale.ROOT, "  %6.1f s  %-12s %10.0f req/s  p99 %8.3f ms  errors %d%n",
                        elapsed, level.label(), perSecond, stats.p99SoFarMs(), stats.phaseErrors());
            } else {
                out.printf(Locale.ROOT, "  %6.1f s  %-12s %10.0f req/s  (warm-up)     errors %d%n",
                        elapsed, level.label(), perSecond, stats.phaseErrors());
            }
        }
    }

    private static String packageVersion() {
        String v = LoadBench.class.getPackage().getImplementationVersion();
        return v == null ? "unknown" : v;
    }
}
