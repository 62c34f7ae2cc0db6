package dev.torchlight.bench.output;

import dev.torchlight.bench.result.BenchReport;
import dev.torchlight.bench.result.LevelResult;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The "protocols" section: for one workload, the same model over v2 JSON ({@code <w>-server}),
 * binary REST ({@code <w>-v2-binary-server}) and gRPC unary and streaming
 * ({@code <w>-grpc-server}, {@code <w>-grpc-stream-server}), each protocol's best throughput next to
 * the raw engine's best and to JSON, and every protocol at the highest concurrency run (the level
 * the p99 comparison is made at).
 */
final class ProtocolsMarkdown {
    /** Run-name infixes of the protocols after JSON, in table order. */
    static final List<String> PROTOCOLS = List.of("", "-v2-binary", "-grpc", "-grpc-stream");

    private ProtocolsMarkdown() {}

    /**
     * @param workload the runs' prefix, e.g. {@code resnet50-batched}
     * @param rawWorkload the raw engine run's prefix, e.g. {@code resnet50}
     */
    static void render(StringBuilder md, Map<String, BenchReport> runs, String title, String workload,
            String rawWorkload, String unit) {
        md.append("### ").append(title).append("\n\n");
        BenchReport json = runs.get(workload + PerformanceTables.SERVER);
        LevelResult rawBest = best(runs.get(rawWorkload + PerformanceTables.RAW));
        LevelResult jsonBest = best(json);
        List<BenchReport> present = PROTOCOLS.stream().map(p -> runs.get(workload + p + PerformanceTables.SERVER))
                .filter(r -> r != null && best(r) != null).toList();
        if (present.size() < 2) {
            md.append("_Not run._\n\n");
            return;
        }
        int top = present.stream().flatMap(r -> r.results().stream()).map(LevelResult::concurrency)
                .filter(c -> c != null).max(Integer::compare).orElse(1);
        md.append("| protocol | best ").append(unit).append(" | at concurrency | p99 ms there | of raw best")
                .append(rawBest == null ? "" : " (" + ResultFormat.count(rawBest.itemsPerS()) + ")")
                .append(" | vs JSON | ").append(unit).append(" at ").append(top).append(" | p99 ms at ").append(top)
                .append(" |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (BenchReport r : present) {
            LevelResult b = best(r);
            LevelResult atTop = r.results().stream().filter(l -> Integer.valueOf(top).equals(l.concurrency()))
                    .findFirst().orElse(null);
            md.append("| ").append(r.protocol()).append(" | ").append(ResultFormat.count(b.itemsPerS())).append(" | ")
                    .append(b.concurrency()).append(" | ").append(ResultFormat.ms(b.p99Ms())).append(" | ")
                    .append(rawBest == null ? "" : percent(b.itemsPerS(), rawBest.itemsPerS())).append(" | ")
                    .append(jsonBest == null ? "" : String.format(Locale.ROOT, "%.2f×", b.itemsPerS() / jsonBest.itemsPerS()))
                    .append(" | ").append(atTop == null ? "" : ResultFormat.count(atTop.itemsPerS())).append(" | ")
                    .append(atTop == null ? "" : ResultFormat.ms(atTop.p99Ms())).append(" |\n");
        }
        md.append('\n');
    }

    /**
     * The same workload at fixed offered rates (open loop, {@code <w>-rate<protocol>-server} runs):
     * latency per protocol at each rate, which is how "p99 at the same throughput" is judged.
     */
    static void renderRates(StringBuilder md, Map<String, BenchReport> runs, String title, String workload) {
        md.append("### ").append(title).append("\n\n");
        List<BenchReport> present = PROTOCOLS.stream().map(p -> runs.get(workload + "-rate" + p + PerformanceTables.SERVER))
                .filter(r -> r != null && !r.results().isEmpty()).toList();
        if (present.isEmpty()) {
            md.append("_Not run._\n\n");
            return;
        }
        md.append("| offered req/s | protocol | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | errors | sent > 1 ms late |\n")
                .append("|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
        List<Double> rates = present.stream().flatMap(r -> r.results().stream()).map(LevelResult::rate)
                .filter(rate -> rate != null).distinct().sorted().toList();
        for (double rate : rates) {
            for (BenchReport r : present) {
                r.results().stream().filter(l -> l.rate() != null && l.rate() == rate).findFirst().ifPresent(l ->
                        md.append("| ").append(ResultFormat.count(rate)).append(" | ").append(r.protocol()).append(" | ")
                                .append(ResultFormat.count(l.itemsPerS())).append(" | ").append(ResultFormat.ms(l.p50Ms()))
                                .append(" | ").append(ResultFormat.ms(l.p90Ms())).append(" | ")
                                .append(ResultFormat.ms(l.p99Ms())).append(" | ").append(ResultFormat.ms(l.p999Ms()))
                                .append(" | ").append(l.errors()).append(" | ").append(l.behindSchedule()).append(" |\n"));
            }
        }
        md.append('\n');
    }

    private static LevelResult best(BenchReport r) {
        return r == null ? null : r.results().stream().max(Comparator.comparingDouble(LevelResult::itemsPerS)).orElse(null);
    }

    private static String percent(double part, double whole) {
        return whole <= 0 ? "n/a" : String.format(Locale.ROOT, "%.0f %%", 100 * part / whole);
    }
}
