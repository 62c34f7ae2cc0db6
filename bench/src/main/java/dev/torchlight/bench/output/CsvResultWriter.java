package dev.torchlight.bench.output;

import dev.torchlight.bench.result.BenchReport;
import dev.torchlight.bench.result.LevelResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Writes reports as CSV (RFC 4180: CRLF line ends, fields with a comma, quote or line break
 * quoted): one header row, then one row per level, with the run's columns repeated on each row so
 * that a spreadsheet can filter and pivot without joins. {@code errors_by_kind} is written as
 * {@code kind=count} pairs joined by {@code ;}; null values are empty fields.
 */
public final class CsvResultWriter {
    /** The columns, in order. */
    public static final List<String> HEADER = List.of(
            "tool", "version", "date", "host_cores", "host_cpu", "host_os", "host_java", "url", "model", "protocol",
            "concurrency", "rate", "throughput_rps", "items_per_s", "p50_ms", "p90_ms", "p99_ms", "p999_ms",
            "max_ms", "requests", "errors", "batch_size", "errors_by_kind", "behind_schedule", "note");

    private static final String EOL = "\r\n";

    private CsvResultWriter() {}

    /** One report as CSV text. */
    public static String toCsv(BenchReport report) {
        return toCsv(List.of(report));
    }

    /** Several reports under one header, rows in report order. */
    public static String toCsv(List<BenchReport> reports) {
        StringBuilder out = new StringBuilder();
        row(out, HEADER);
        for (BenchReport report : reports) {
            for (LevelResult level : report.results()) {
                row(out, fields(report, level));
            }
        }
        return out.toString();
    }

    /** Writes one report to {@code file}, creating its parent folders. */
    public static void write(BenchReport report, Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, toCsv(report));
    }

    private static List<String> fields(BenchReport r, LevelResult l) {
        List<String> f = new ArrayList<>(HEADER.size());
        f.add(r.tool());
        f.add(r.version());
        f.add(r.date());
        f.add(r.host() == null ? null : String.valueOf(r.host().cores()));
        f.add(r.host() == null ? null : r.host().cpu());
        f.add(r.host() == null ? null : r.host().os());
        f.add(r.host() == null ? null : r.host().java());
        f.add(r.url());
        f.add(r.model());
        f.add(r.protocol());
        f.add(l.concurrency() == null ? null : l.concurrency().toString());
        f.add(l.rate() == null ? null : number(l.rate()));
        f.add(number(l.throughputRps()));
        f.add(number(l.itemsPerS()));
        f.add(number(l.p50Ms()));
        f.add(number(l.p90Ms()));
        f.add(number(l.p99Ms()));
        f.add(number(l.p999Ms()));
        f.add(number(l.maxMs()));
        f.add(Long.toString(l.requests()));
        f.add(Long.toString(l.errors()));
        f.add(Integer.toString(l.batchSize()));
        f.add(new TreeMap<>(l.errorsByKind()).entrySet().stream()
                .map(Map.Entry::toString).collect(Collectors.joining(";")));
        f.add(Long.toString(l.behindSchedule()));
        f.add(r.note());
        return f;
    }

    // Double.toString round-trips exactly and never uses a locale's decimal comma.
    private static String number(double value) {
        return value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long) value) : Double.toString(value);
    }

    private static void row(StringBuilder out, List<String> fields) {
        for (int i = 0; i < fields.size(); i++) {
            if (i > 0) {
                out.append(',');
            }
            out.append(quote(fields.get(i)));
        }
        out.append(EOL);
    }

    static String quote(String field) {
        if (field == null) {
            return "";
        }
        if (field.indexOf(',') < 0 && field.indexOf('"') < 0 && field.indexOf('\n') < 0 && field.indexOf('\r') < 0) {
            return field;
        }
        return '"' + field.replace("\"", "\"\"") + '"';
    }
}
