package dev.torchlight.bench.output;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.torchlight.bench.result.BenchReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Combines one {@code bench/run.sh} run's result files into a single JSON file and the markdown
 * tables for docs/PERFORMANCE.md.
 *
 * <p>Usage: {@code PerformanceTables RUN_DIR [--commit SHA] [--command TEXT]}. {@code RUN_DIR}
 * holds one {@code <run>.json} per bench run; the standard ones are {@code overhead-server},
 * {@code overhead-raw}, {@code risk-server}, {@code risk-raw}, {@code resnet50-server} and
 * {@code resnet50-raw}, and any other is carried into the combined file too. Writes
 * {@code RUN_DIR.json} ({@code {tool, commit, runs: {<run>: <report>}}}) and {@code RUN_DIR.md}
 * next to the folder.
 */
public final class PerformanceTables {
    static final String OVERHEAD = "overhead";
    static final String RISK = "risk";
    static final String RESNET = "resnet50";
    static final String SERVER = "-server";
    static final String RAW = "-raw";
    /** Sub-folder of RUN_DIR with the server's statistics after each run. */
    static final String STATS = "stats";

    private PerformanceTables() {}

    public static void main(String[] args) throws IOException {
        Path dir = null;
        String commit = null;
        String command = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--commit" -> commit = value(args, ++i);
                case "--command" -> command = value(args, ++i);
                default -> {
                    if (dir != null || args[i].startsWith("-")) {
                        usage("unexpected argument '" + args[i] + "'");
                    }
                    dir = Path.of(args[i]);
                }
            }
        }
        if (dir == null) {
            usage("missing RUN_DIR");
        }
        Map<String, BenchReport> runs = read(dir);
        Map<String, JsonNode> stats = readStats(dir.resolve(STATS));
        String name = dir.toAbsolutePath().normalize().getFileName().toString();
        Path json = dir.resolveSibling(name + ".json");
        Path md = dir.resolveSibling(name + ".md");
        Files.writeString(json, combinedJson(runs, commit));
        Files.writeString(md, markdown(runs, stats, commit, command));
        System.out.println("wrote " + json + " and " + md + " from " + runs.keySet());
    }

    /** Every {@code *.json} in {@code dir}, keyed by file name without {@code .json}, sorted by name. */
    public static Map<String, BenchReport> read(Path dir) throws IOException {
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().toList();
        }
        Map<String, BenchReport> runs = new LinkedHashMap<>();
        for (Path file : files) {
            String name = file.getFileName().toString();
            runs.put(name.substring(0, name.length() - ".json".length()), JsonResultWriter.read(file));
        }
        return runs;
    }

    /** The server statistics saved after each run: {@code RUN_DIR/stats/<run>.json}, by run name; empty if none. */
    public static Map<String, JsonNode> readStats(Path dir) throws IOException {
        Map<String, JsonNode> stats = new LinkedHashMap<>();
        if (!Files.isDirectory(dir)) {
            return stats;
        }
        try (Stream<Path> list = Files.list(dir)) {
            for (Path file : list.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().toList()) {
                String name = file.getFileName().toString();
                stats.put(name.substring(0, name.length() - ".json".length()), JsonResultWriter.mapper().readTree(file.toFile()));
            }
        }
        return stats;
    }

    /** {@code {tool, commit, runs: {<run>: <report>}}}, each report as {@link JsonResultWriter} writes it. */
    public static String combinedJson(Map<String, BenchReport> runs, String commit) {
        ObjectNode root = JsonResultWriter.mapper().createObjectNode();
        root.put("tool", BenchReport.TOOL);
        root.put("commit", commit);
        ObjectNode byName = root.putObject("runs");
        runs.forEach((name, report) -> byName.set(name, JsonResultWriter.mapper().valueToTree(report)));
        return root.toPrettyString() + "\n";
    }

    /**
     * The three standard tables (server overhead, risk scoring, ResNet-50), each server next to the
     * raw engine; a workload whose files are missing says so.
     *
     * @param commit the commit measured, or null
     * @param command the command that produced the runs, or null
     */
    public static String markdown(Map<String, BenchReport> runs, String commit, String command) {
        return markdown(runs, Map.of(), commit, command);
    }

    /** As {@link #markdown(Map, String, String)}, with the server statistics of the batched runs. */
    public static String markdown(Map<String, BenchReport> runs, Map<String, JsonNode> stats, String commit,
            String command) {
        return PerformanceMarkdown.render(runs, stats, commit, command);
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            usage(args[i - 1] + " needs a value");
        }
        return args[i];
    }

    private static void usage(String problem) {
        throw new IllegalArgumentException(problem
                + "; usage: PerformanceTables RUN_DIR [--commit SHA] [--command TEXT]");
    }
}
