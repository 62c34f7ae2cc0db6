package dev.torchlight.bench.output;

import com.fasterxml.jackson.databind.JsonNode;
import dev.torchlight.bench.result.BenchReport;
import dev.torchlight.bench.result.LevelResult;
import java.util.Locale;
import java.util.Map;

/**
 * The "dynamic batching on vs off" section: for each workload with both a {@code <w>-server} run
 * (the model without batching) and a {@code <w>-batched-server} run (the same file with
 * {@code dynamic_batching}) of the same server, throughput and p99 side by side per concurrency,
 * then, from the server's v2 statistics after the batched run, the batch sizes it formed and how
 * a request's time split between queue and compute.
 */
final class BatchingMarkdown {
    static final String BATCHED = "-batched";

    private BatchingMarkdown() {}

    /**
     * @param stats the v2 statistics ({@code GET /v2/models/{m}/stats}) saved after each run, by run name
     */
    static void render(StringBuilder md, Map<String, BenchReport> runs, Map<String, JsonNode> stats, String title,
            String workload, String unit) {
        BenchReport off = runs.get(workload + PerformanceTables.SERVER);
        String onName = workload + BATCHED + PerformanceTables.SERVER;
        BenchReport on = runs.get(onName);
        md.append("### ").append(title).append("\n\n");
        if (off == null || on == null) {
            md.append("_Not run._\n\n");
            return;
        }
        md.append("| concurrency | off ").append(unit).append(" | on ").append(unit)
                .append(" | on / off | off p99 ms | on p99 ms | on errors |\n|---:|---:|---:|---:|---:|---:|---:|\n");
        for (LevelResult o : on.results()) {
            LevelResult f = off.results().stream().filter(l -> o.concurrency().equals(l.concurrency())).findFirst()
                    .orElse(null);
            md.append("| ").append(o.concurrency()).append(" | ")
                    .append(f == null ? "" : ResultFormat.count(f.itemsPerS())).append(" | ")
                    .append(ResultFormat.count(o.itemsPerS())).append(" | ")
                    .append(f == null || f.itemsPerS() <= 0 ? "" : String.format(Locale.ROOT, "%.2f×", o.itemsPerS() / f.itemsPerS()))
                    .append(" | ").append(f == null ? "" : ResultFormat.ms(f.p99Ms())).append(" | ")
                    .append(ResultFormat.ms(o.p99Ms())).append(" | ").append(o.errors()).append(" |\n");
        }
        md.append('\n');
        JsonNode s = stats.get(onName);
        if (s != null && s.path("model_stats").size() > 0) {
            statistics(md, s.path("model_stats").get(0));
        }
    }

    private static void statistics(StringBuilder md, JsonNode model) {
        JsonNode inference = model.path("inference_stats");
        long success = inference.path("success").path("count").asLong();
        double queueMs = perRequestMs(inference.path("queue"));
        double computeMs = perRun(inference.path("compute_infer"));
        long runs = model.path("execution_count").asLong();
        long rows = model.path("inference_count").asLong();
        md.append(String.format(Locale.ROOT,
                "Server statistics for the whole batched run (warm-up included): %d requests in %d engine runs "
                        + "(%.1f rows per run); a request waited %.3f ms in the queue on average, a run computed "
                        + "for %.3f ms on average.%n%n",
                success, runs, runs == 0 ? 0 : (double) rows / runs, queueMs, computeMs));
        JsonNode batches = model.path("batch_stats");
        if (batches.isArray() && !batches.isEmpty()) {
            md.append("| batch size | runs | share of runs | mean compute ms |\n|---:|---:|---:|---:|\n");
            for (JsonNode b : batches) {
                JsonNode infer = b.path("compute_infer");
                long count = infer.path("count").asLong();
                md.append("| ").append(b.path("batch_size").asLong()).append(" | ").append(count).append(" | ")
                        .append(runs == 0 ? "" : String.format(Locale.ROOT, "%.1f %%", 100.0 * count / runs)).append(" | ")
                        .append(ResultFormat.ms(perRun(infer))).append(" |\n");
            }
            md.append('\n');
        }
    }

    private static double perRequestMs(JsonNode duration) {
        return perRun(duration);
    }

    private static double perRun(JsonNode duration) {
        long count = duration.path("count").asLong();
        return count == 0 ? 0 : duration.path("ns").asLong() / 1e6 / count;
    }
}
