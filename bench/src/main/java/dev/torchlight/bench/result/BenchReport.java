package dev.torchlight.bench.result;

import java.util.List;

/**
 * What one {@code torchlight bench} run measured; written as JSON (snake_case keys) and CSV.
 *
 * @param tool always {@code torchlight-bench}
 * @param version torchlight's version
 * @param date ISO-8601 instant the run started
 * @param host the machine
 * @param url the server's base URL; {@code raw:} plus the repository path in raw mode
 * @param model model name
 * @param protocol {@code v2-json}, {@code torchserve}, {@code health} or {@code raw}
 * @param results one entry per sweep level, in the order run
 * @param note null, or why the run ended early (e.g. the server went away)
 */
public record BenchReport(
        String tool,
        String version,
        String date,
        HostInfo host,
        String url,
        String model,
        String protocol,
        List<LevelResult> results,
        String note) {

    public static final String TOOL = "torchlight-bench";

    public BenchReport {
        results = List.copyOf(results);
    }
}
