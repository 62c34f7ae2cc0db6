package dev.torchlight.bench.output;

import dev.torchlight.bench.result.BenchReport;
import dev.torchlight.bench.result.HostInfo;
import dev.torchlight.bench.result.LevelResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Hand-made reports with plausible numbers, for the writers, tables and the HTML report. */
public final class Samples {
    public static final HostInfo HOST = new HostInfo(2, "Intel(R) Xeon(R) CPU @ 2.20GHz", "Linux 6.1.0 amd64",
            "Eclipse Adoptium 25+36-LTS");

    private Samples() {}

    /** A closed-loop level of one row per request. */
    public static LevelResult closed(int concurrency, double rps, double p50) {
        return new LevelResult(concurrency, null, 1, rps, rps, p50, p50 * 1.3, p50 * 2, p50 * 3, p50 * 4,
                Math.round(rps * 10), 0, Map.of(), 0);
    }

    /** An open-loop level at {@code rate} sends per second, all answered. */
    public static LevelResult open(double rate, double p50) {
        return new LevelResult(null, rate, 1, rate, rate, p50, p50 * 1.3, p50 * 2, p50 * 3, p50 * 4,
                Math.round(rate * 10), 0, Map.of(), 0);
    }

    /** A raw-engine level: one thread, {@code batch} rows per call. */
    public static LevelResult raw(int batch, double callsPerS, double p50) {
        return new LevelResult(1, null, batch, callsPerS, callsPerS * batch, p50, p50 * 1.1, p50 * 1.5, p50 * 2,
                p50 * 3, Math.round(callsPerS * 10), 0, Map.of(), 0);
    }

    public static BenchReport server(String model, List<LevelResult> levels) {
        return new BenchReport(BenchReport.TOOL, "0.1.0", "2026-11-25T09:00:00Z", HOST, "http://127.0.0.1:40123",
                model, "v2-json", levels, null);
    }

    /** {@code report} as if run over {@code protocol}. */
    public static BenchReport withProtocol(String protocol, BenchReport report) {
        return new BenchReport(report.tool(), report.version(), report.date(), report.host(), report.url(),
                report.model(), protocol, report.results(), report.note());
    }

    public static BenchReport raw(String model, List<LevelResult> levels) {
        return new BenchReport(BenchReport.TOOL, "0.1.0", "2026-11-25T08:58:00Z", HOST,
                "raw:/work/bench/models", model, "raw", levels, null);
    }

    /** The risk MLP through the server, concurrency 1 to 64. */
    public static BenchReport riskServer() {
        List<LevelResult> levels = new ArrayList<>();
        int[] c = {1, 2, 4, 8, 16, 32, 64};
        double[] rps = {2400, 4300, 7400, 11800, 16900, 19800, 20500};
        for (int i = 0; i < c.length; i++) {
            levels.add(closed(c[i], rps[i], c[i] / rps[i] * 1000));
        }
        return server("risk", levels);
    }

    /** The risk MLP on the raw engine, batch sizes 1 to 64. */
    public static BenchReport riskRaw() {
        return raw("risk", List.of(raw(1, 5200, 0.19), raw(8, 2100, 0.47), raw(16, 1500, 0.66),
                raw(32, 1000, 0.98), raw(64, 850, 1.17)));
    }

    /** Every standard run, keyed by the names bench/run.sh gives its files. */
    public static Map<String, BenchReport> standardRuns() {
        return Map.of(
                "overhead-server", server("mlp", List.of(closed(1, 3100, 0.31))),
                "overhead-raw", raw("mlp", List.of(raw(1, 14000, 0.068))),
                "risk-server", riskServer(),
                "risk-raw", riskRaw(),
                "resnet50-server", server("resnet50", List.of(closed(1, 18, 55), closed(2, 21, 95),
                        closed(4, 25, 160), closed(8, 27, 290), closed(16, 27.5, 580))),
                "resnet50-raw", raw("resnet50", List.of(raw(1, 19, 53), raw(2, 12, 85), raw(4, 6.5, 150),
                        raw(8, 3.5, 290), raw(16, 1.7, 600), raw(32, 0.47, 2100))));
    }
}
