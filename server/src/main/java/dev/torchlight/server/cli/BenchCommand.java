package dev.torchlight.server.cli;

import dev.torchlight.bench.load.LoadBench;
import dev.torchlight.bench.load.LoadBenchException;
import dev.torchlight.bench.load.LoadOptions;
import dev.torchlight.bench.load.Protocol;
import dev.torchlight.bench.output.CsvResultWriter;
import dev.torchlight.bench.output.JsonResultWriter;
import dev.torchlight.bench.output.SummaryTable;
import dev.torchlight.bench.raw.RawBench;
import dev.torchlight.bench.raw.RawOptions;
import dev.torchlight.bench.report.HtmlReport;
import dev.torchlight.bench.result.BenchReport;
import dev.torchlight.server.runtime.EngineFactory;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code torchlight bench}: load a server over its wire protocol, or the raw engine in-process. */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Measure a server (closed loop: --concurrency, open loop: --rate) or, with --raw, the engine alone.",
            "Examples:",
            "  torchlight bench --url http://127.0.0.1:8080 --model mlp --concurrency 1,8,64 --json out.json",
            "  torchlight bench --raw --model-repository models --model mlp --batch-sizes 1,8,64",
            "  torchlight bench --url http://127.0.0.1:7070 --model risk --protocol grpc --replay stream.jsonl --rate 1000,2000"
        })
public final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--url", paramLabel = "URL", description = "Server base URL, e.g. http://127.0.0.1:8080.")
    URI url;

    @Option(names = "--model", paramLabel = "NAME", description = "Model name.")
    String model;

    @Option(names = "--model-version", paramLabel = "V", description = "Model version (default: the server's default).")
    String modelVersion;

    @Option(names = "--protocol", paramLabel = "P", defaultValue = "v2-json",
            description = "v2-json (default), v2-binary (binary tensor extension), grpc (unary ModelInfer), "
                    + "grpc-stream (ModelStreamInfer), torchserve, or health (GET /v2/health/live: the client's own "
                    + "ceiling). For grpc and grpc-stream, --url is the gRPC listener, e.g. http://127.0.0.1:7070; "
                    + "grpc-stream keeps a stream per slot (closed loop) or a few long-lived streams (open loop).")
    String protocol;

    @Option(names = "--concurrency", split = ",", paramLabel = "N[,N...]",
            description = "Closed loop: requests in flight, one result per level (default: 1).")
    List<Integer> concurrency = new ArrayList<>();

    @Option(names = "--rate", split = ",", paramLabel = "R[,R...]",
            description = "Open loop: requests/s, latency measured from the intended send time.")
    List<Double> rate = new ArrayList<>();

    @Option(names = "--stop-above-p99", paramLabel = "MS",
            description = "Open loop: end the sweep after the first rate whose p99 exceeds MS milliseconds or that had "
                    + "errors, so that rates given in rising order find the highest rate under a latency objective.")
    Double stopAboveP99;

    @Option(names = "--connections", paramLabel = "N", defaultValue = "64",
            description = "Open loop: most connections to open (default: ${DEFAULT-VALUE}).")
    int connections;

    @Option(names = "--warmup", paramLabel = "TIME", defaultValue = "2s", converter = DurationConverter.class,
            description = "Unmeasured time per level (default: ${DEFAULT-VALUE}).")
    Duration warmup;

    @Option(names = "--first-warmup", paramLabel = "TIME", converter = DurationConverter.class,
            description = "Unmeasured time of the first level instead of --warmup: a fresh load generator's JIT takes "
                    + "seconds to settle (about 20 s for gRPC on 2 cores), and an open loop that falls behind "
                    + "meanwhile measures its own backlog.")
    Duration firstWarmup;

    @Option(names = "--duration", paramLabel = "TIME", defaultValue = "10s", converter = DurationConverter.class,
            description = "Measured time per level (default: ${DEFAULT-VALUE}).")
    Duration duration;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "1", description = "Rows per request (default: 1).")
    int batch;

    @Option(names = "--input-file", paramLabel = "FILE", description = "A request body sent as is (default: random data from the model's metadata).")
    Path inputFile;

    @Option(names = "--replay", paramLabel = "FILE",
            description = "Send a recorded stream instead of random data: JSON lines, each an Open Inference Protocol v2 "
                    + "request body, sent in order (open loop) and cycled; any --protocol that carries inputs. With --raw, "
                    + "each batch is the recording's first rows.")
    Path replay;

    @Option(names = "--image-dir", paramLabel = "DIR",
            description = "Send the image files (.jpg, .png) of DIR, one per request, to a model with an image handler.")
    Path imageDir;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42", description = "Seed of the random data (default: 42).")
    long seed;

    @Option(names = "--timeout", paramLabel = "TIME", defaultValue = "10s", converter = DurationConverter.class,
            description = "Per-request timeout (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--raw", description = "Run the model through the engine in-process, without a server.")
    boolean raw;

    @Option(names = "--model-repository", paramLabel = "DIR", description = "With --raw: the model repository.")
    Path modelRepository;

    @Option(names = "--batch-sizes", split = ",", paramLabel = "N[,N...]", description = "With --raw: rows per engine call (default: 1).")
    List<Integer> batchSizes = new ArrayList<>();

    @Option(names = "--threads", paramLabel = "N", defaultValue = "1", description = "With --raw: engine threads, each with its own instance (default: 1).")
    int threads;

    @Option(names = "--json", paramLabel = "FILE", description = "Write the results as JSON.")
    Path json;

    @Option(names = "--csv", paramLabel = "FILE", description = "Write the results as CSV.")
    Path csv;

    @Option(names = "--report", paramLabel = "DIR", description = "Write a self-contained HTML report with charts.")
    Path report;

    @Option(names = "--baseline", paramLabel = "FILE", description = "A results JSON (e.g. of --raw) drawn next to this run in --report.")
    Path baseline;

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintStream progress = System.err;
        BenchReport result;
        try {
            result = raw ? runRaw(progress) : runLoad(progress);
        } catch (IllegalArgumentException | LoadBenchException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        SummaryTable.print(result, System.out);
        if (json != null) {
            JsonResultWriter.write(result, json);
        }
        if (csv != null) {
            CsvResultWriter.write(result, csv);
        }
        if (report != null) {
            List<BenchReport> reports = new ArrayList<>(List.of(result));
            if (baseline != null) {
                reports.add(JsonResultWriter.read(baseline));
            }
            progress.println("report: " + HtmlReport.write(report, reports).toAbsolutePath());
        }
        if (result.note() != null) {
            progress.println("torchlight bench: " + result.note());
            return 1;
        }
        return 0;
    }

    private BenchReport runLoad(PrintStream progress) {
        if (url == null) {
            throw new IllegalArgumentException("missing --url (or use --raw with --model-repository)");
        }
        LoadOptions options = LoadOptions.builder(url, model)
                .protocol(Protocol.fromWireName(protocol))
                .concurrency(concurrency.isEmpty() && rate.isEmpty() ? List.of(1) : concurrency)
                .rates(rate)
                .connections(connections)
                .warmup(warmup)
                .firstWarmup(firstWarmup)
                .duration(duration)
                .batch(batch)
                .inputFile(inputFile)
                .imageDir(imageDir)
                .replayFile(replay)
                .stopAboveP99Ms(stopAboveP99)
                .seed(seed)
                .requestTimeout(timeout)
                .modelVersion(modelVersion)
                .build();
        return LoadBench.owningProcess(VersionProvider.version()).run(options, progress);
    }

    private BenchReport runRaw(PrintStream progress) throws InterruptedException {
        if (modelRepository == null || model == null) {
            throw new IllegalArgumentException("--raw needs --model-repository DIR and --model NAME");
        }
        Long version = modelVersion == null ? null : Long.valueOf(modelVersion);
        RawOptions options = new RawOptions(modelRepository, model, version,
                batchSizes.isEmpty() ? List.of(1) : batchSizes, threads, warmup, duration, seed).withReplay(replay);
        return new RawBench(EngineFactory.create()).run(options, progress);
    }

    /** {@code 500ms}, {@code 2s}, {@code 1m}; a bare number is seconds. */
    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            String v = value.strip().toLowerCase(java.util.Locale.ROOT);
            try {
                if (v.endsWith("ms")) {
                    return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
                }
                if (v.endsWith("m")) {
                    return Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1)));
                }
                String seconds = v.endsWith("s") ? v.substring(0, v.length() - 1) : v;
                return Duration.ofMillis(Math.round(Double.parseDouble(seconds) * 1000));
            } catch (NumberFormatException e) {
                throw new CommandLine.TypeConversionException(
                        "'" + value + "' is not a duration; expected e.g. 500ms, 2s or 1m");
            }
        }
    }
}
