package dev.torchlight.bench.output;

import com.fasterxml.jackson.databind.JsonNode;
import dev.torchlight.bench.result.BenchReport;
import dev.torchlight.bench.result.HostInfo;
import dev.torchlight.bench.result.LevelResult;
import java.util.Comparator;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** Renders the standard workloads' results as the markdown tables of docs/PERFORMANCE.md. */
final class PerformanceMarkdown {
    /** The latency bound the risk workload is judged at (docs/DESIGN.md: ≥ 23k req/s with p99 ≤ 10 ms). */
    static final double P99_BOUND_MS = 10;

    private final Map<String, BenchReport> runs;
    private final Map<String, JsonNode> stats;
    private final StringBuilder md = new StringBuilder();

    private PerformanceMarkdown(Map<String, BenchReport> runs, Map<String, JsonNode> stats) {
        this.runs = runs;
        this.stats = stats;
    }

    static String render(Map<String, BenchReport> runs, Map<String, JsonNode> stats, String commit, String command) {
        return new PerformanceMarkdown(runs, stats).all(commit, command);
    }

    private String all(String commit, String command) {
        header(commit, command);
        overhead();
        serverVsRaw("2. Risk scoring: MLP 256 → 1024 → 1024 → 2, one row per request", PerformanceTables.RISK,
                "req/s", "rows/s");
        serverVsRaw("3. ResNet-50: one 3×224×224 image per request", PerformanceTables.RESNET, "img/s", "img/s");
        BatchingMarkdown.render(md, runs, stats, "4. Dynamic batching on vs off: risk scoring", PerformanceTables.RISK,
                "req/s");
        BatchingMarkdown.render(md, runs, stats, "5. Dynamic batching on vs off: ResNet-50", PerformanceTables.RESNET,
                "img/s");
        ProtocolsMarkdown.render(md, runs, "6. Protocols: risk scoring, no batching", PerformanceTables.RISK,
                PerformanceTables.RISK, "req/s");
        ProtocolsMarkdown.renderRates(md, runs, "6b. Protocols at the same offered rate: risk scoring, no batching",
                PerformanceTables.RISK);
        ProtocolsMarkdown.render(md, runs, "7. Protocols: ResNet-50, no batching", PerformanceTables.RESNET,
                PerformanceTables.RESNET, "img/s");
        ProtocolsMarkdown.render(md, runs, "8. Protocols: ResNet-50 with dynamic batching",
                PerformanceTables.RESNET + BatchingMarkdown.BATCHED, PerformanceTables.RESNET, "img/s");
        return md.toString();
    }

    private void header(String commit, String command) {
        Optional<BenchReport> any = runs.values().stream().findFirst();
        md.append("## Results");
        any.ifPresent(r -> md.append(": ").append(r.date(), 0, Math.min(10, r.date().length())));
        md.append("\n\n");
        if (any.isPresent()) {
            BenchReport first = runs.values().stream().min(Comparator.comparing(BenchReport::date)).orElseThrow();
            HostInfo h = first.host();
            md.append("- Date: ").append(first.date()).append(" (first run)\n");
            md.append("- Machine: ").append(h.cpu()).append(", ").append(h.cores()).append(" cores, ")
                    .append(h.os()).append('\n');
            md.append("- Java: ").append(h.java()).append('\n');
            md.append("- torchlight: ").append(first.version()).append('\n');
        }
        if (commit != null) {
            md.append("- Commit: `").append(commit).append("`\n");
        }
        if (command != null) {
            md.append("- Command: `").append(command).append("`\n");
        }
        md.append('\n');
    }

    private void overhead() {
        BenchReport server = runs.get(PerformanceTables.OVERHEAD + PerformanceTables.SERVER);
        BenchReport raw = runs.get(PerformanceTables.OVERHEAD + PerformanceTables.RAW);
        md.append("### 1. Server overhead: the demo mlp, one row, concurrency 1\n\n");
        if (first(server) == null || first(raw) == null) {
            md.append("_Not run._\n\n");
            return;
        }
        LevelResult s = first(server);
        LevelResult r = first(raw);
        md.append("| | p50 ms | p90 ms | p99 ms | p99.9 ms | calls/s |\n|---|---:|---:|---:|---:|---:|\n");
        md.append("| server (").append(server.protocol()).append(", concurrency ").append(s.concurrency())
                .append(") ").append(latencies(s)).append(ResultFormat.count(s.throughputRps())).append(" |\n");
        md.append("| raw engine (batch ").append(r.batchSize()).append(", ").append(r.concurrency())
                .append(" thread) ").append(latencies(r)).append(ResultFormat.count(r.throughputRps())).append(" |\n");
        md.append(String.format(Locale.ROOT, "| **server − raw (µs)** | **%.0f** | %.0f | %.0f | %.0f | |%n%n",
                us(s.p50Ms() - r.p50Ms()), us(s.p90Ms() - r.p90Ms()), us(s.p99Ms() - r.p99Ms()),
                us(s.p999Ms() - r.p999Ms())));
        md.append(String.format(Locale.ROOT,
                "Server overhead: **%.0f µs** per request at concurrency 1 (server p50 %s ms − raw p50 %s ms); "
                        + "the server completes %s of the raw engine's calls per second.%n%n",
                us(s.p50Ms() - r.p50Ms()), ResultFormat.ms(s.p50Ms()), ResultFormat.ms(r.p50Ms()),
                percent(s.throughputRps(), r.throughputRps())));
    }

    private void serverVsRaw(String title, String workload, String unit, String rawUnit) {
        BenchReport server = runs.get(workload + PerformanceTables.SERVER);
        BenchReport raw = runs.get(workload + PerformanceTables.RAW);
        md.append("### ").append(title).append("\n\n");
        if (server == null && raw == null) {
            md.append("_Not run._\n\n");
            return;
        }
        LevelResult rawBest = best(raw);
        LevelResult serverBest = best(server);
        if (serverBest != null && rawBest != null) {
            md.append(String.format(Locale.ROOT,
                    "Best server: **%s %s** at concurrency %d (p99 %s ms), **%s** of the raw engine's best "
                            + "**%s %s** (batch %d).%n",
                    ResultFormat.count(serverBest.itemsPerS()), unit, serverBest.concurrency(),
                    ResultFormat.ms(serverBest.p99Ms()),
                    percent(serverBest.itemsPerS(), rawBest.itemsPerS()), ResultFormat.count(rawBest.itemsPerS()), rawUnit,
                    rawBest.batchSize()));
            LevelResult bounded = server.results().stream().filter(l -> l.p99Ms() <= P99_BOUND_MS)
                    .max(Comparator.comparingDouble(LevelResult::itemsPerS)).orElse(null);
            md.append(bounded == null
                    ? String.format(Locale.ROOT, "No concurrency kept p99 within %s ms.%n%n", ResultFormat.count(P99_BOUND_MS))
                    : String.format(Locale.ROOT, "Best with p99 ≤ %s ms: %s %s at concurrency %d.%n%n",
                            ResultFormat.count(P99_BOUND_MS), ResultFormat.count(bounded.itemsPerS()), unit,
                            bounded.concurrency()));
        }
        if (server != null) {
            md.append("Server (").append(server.protocol()).append("):\n\n| concurrency | ").append(unit)
                    .append(" | p50 ms | p90 ms | p99 ms | p99.9 ms | errors | of raw best |\n")
                    .append("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            for (LevelResult l : server.results()) {
                md.append("| ").append(l.concurrency()).append(" | ").append(ResultFormat.count(l.itemsPerS())).append(' ')
                        .append(latencies(l)).append(l.errors()).append(" | ")
                        .append(rawBest == null ? "" : percent(l.itemsPerS(), rawBest.itemsPerS())).append(" |\n");
            }
            md.append('\n');
        }
        if (raw != null) {
            int threads = raw.results().isEmpty() ? 1 : raw.results().getFirst().concurrency();
            md.append("Raw engine (").append(threads).append(threads == 1 ? " thread" : " threads")
                    .append("):\n\n| batch size | calls/s | ").append(rawUnit)
                    .append(" | p50 ms | p90 ms | p99 ms | p99.9 ms |\n|---:|---:|---:|---:|---:|---:|---:|\n");
            for (LevelResult l : raw.results()) {
                md.append("| ").append(l.batchSize()).append(" | ").append(ResultFormat.count(l.throughputRps()))
                        .append(" | ").append(ResultFormat.count(l.itemsPerS())).append(' ')
                        .append(latencies(l).stripTrailing()).append('\n');
            }
            md.append('\n');
        }
        appendNotes(server, raw);
    }

    private void appendNotes(BenchReport... reports) {
        for (BenchReport r : reports) {
            if (r != null && r.note() != null) {
                md.append("> ").append(r.protocol()).append(" run ended early: ").append(r.note()).append("\n\n");
            }
        }
    }

    /** {@code | p50 | p90 | p99 | p99.9 |}: four cells, with a trailing separator. */
    private static String latencies(LevelResult l) {
        return "| " + ResultFormat.ms(l.p50Ms()) + " | " + ResultFormat.ms(l.p90Ms()) + " | "
                + ResultFormat.ms(l.p99Ms()) + " | "
                + ResultFormat.ms(l.p999Ms()) + " | ";
    }

    private static LevelResult first(BenchReport r) {
        return r == null || r.results().isEmpty() ? null : r.results().getFirst();
    }

    private static LevelResult best(BenchReport r) {
        return r == null ? null : r.results().stream().max(Comparator.comparingDouble(LevelResult::itemsPerS)).orElse(null);
    }

    private static double us(double ms) {
        return ms * 1000;
    }

    private static String percent(double part, double whole) {
        return whole <= 0 ? "n/a" : String.format(Locale.ROOT, "%.0f %%", 100 * part / whole);
    }
}
