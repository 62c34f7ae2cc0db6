package dev.torchlight.bench.output;

import dev.torchlight.bench.result.BenchReport;
import dev.torchlight.bench.result.LevelResult;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The fixed-width table the bench prints on stdout: a title line, then one row per level with
 * level, req/s, items/s, p50, p90, p99, p99.9, max (ms) and errors; a {@code behind} column when a
 * level ran open loop; errors by kind and the run's note below the table.
 */
public final class SummaryTable {
    private static final String[] HEADER = {"level", "req/s", "items/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms",
        "max ms", "errors", "behind"};

    private SummaryTable() {}

    /** Prints {@link #render} to {@code out}. */
    public static void print(BenchReport report, PrintStream out) {
        out.print(render(report));
    }

    /** The table as text, every line ending in {@code \n}. */
    public static String render(BenchReport report) {
        boolean openLoop = report.results().stream().anyMatch(l -> l.rate() != null);
        int columns = openLoop ? HEADER.length : HEADER.length - 1;
        List<String[]> rows = new ArrayList<>();
        rows.add(HEADER);
        for (LevelResult l : report.results()) {
            rows.add(new String[] {ResultFormat.level(report, l), ResultFormat.count(l.throughputRps()),
                ResultFormat.count(l.itemsPerS()), ResultFormat.ms(l.p50Ms()), ResultFormat.ms(l.p90Ms()), ResultFormat.ms(l.p99Ms()), ResultFormat.ms(l.p999Ms()),
                ResultFormat.ms(l.maxMs()), Long.toString(l.errors()), Long.toString(l.behindSchedule())});
        }
        int[] widths = new int[columns];
        for (String[] row : rows) {
            for (int c = 0; c < columns; c++) {
                widths[c] = Math.max(widths[c], row[c].length());
            }
        }
        StringBuilder out = new StringBuilder();
        // ASCII only: stdout may not be UTF-8.
        out.append("model ").append(report.model()).append(", protocol ").append(report.protocol()).append(", ")
                .append(report.url()).append(", ").append(report.date()).append('\n');
        for (String[] row : rows) {
            // The level left-aligned, numbers right-aligned so that their digits line up.
            out.append(pad(row[0], widths[0], true));
            for (int c = 1; c < columns; c++) {
                out.append("  ").append(pad(row[c], widths[c], false));
            }
            out.append('\n');
        }
        for (LevelResult l : report.results()) {
            if (!l.errorsByKind().isEmpty()) {
                out.append(ResultFormat.level(report, l)).append(" errors: ")
                        .append(new TreeMap<>(l.errorsByKind()).entrySet().stream()
                                .map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", ")))
                        .append('\n');
            }
        }
        if (report.note() != null) {
            out.append("note: ").append(report.note()).append('\n');
        }
        return out.toString();
    }

    private static String pad(String s, int width, boolean left) {
        String fill = " ".repeat(width - s.length());
        return left ? s + fill : fill + s;
    }
}
