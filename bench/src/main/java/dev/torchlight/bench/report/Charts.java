package dev.torchlight.bench.report;

import dev.torchlight.bench.output.ResultFormat;
import dev.torchlight.bench.result.BenchReport;
import dev.torchlight.bench.result.LevelResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;

/**
 * Decides which charts a set of reports deserves and computes their series; the page's script only
 * draws them. Server runs are solid lines with round points, raw-engine runs dashed with triangles,
 * so a server and its limit read apart at a glance on any chart they share.
 */
final class Charts {
    /** One chart: {@code id} is its canvas. */
    record Chart(String id, String title, String subtitle, Axis x, Axis y, List<Series> series) {}

    /** An axis; {@code ticks} null lets the library choose them. */
    record Axis(String title, boolean log, List<Double> ticks) {}

    /** A line; {@code pointStyle} null draws no points (a reference line). */
    record Series(String label, String color, boolean dashed, String pointStyle, List<Point> points) {}

    /** A point; {@code label} is the level it was measured at, shown on hover. */
    record Point(double x, double y, String label) {}

    /** The id of the latency chart, which is always last. */
    static final String LATENCY = "latency-throughput";

    static final String[] SERVER_COLORS = {"#2563eb", "#7c3aed", "#0891b2", "#4f46e5"};
    static final String[] RAW_COLORS = {"#ea580c", "#d97706", "#be123c"};
    private static final String TARGET_COLOR = "#94a3b8";
    private static final String[] PERCENTILES = {"p50", "p90", "p99", "p99.9"};
    private static final String[] PERCENTILE_COLORS = {"#2563eb", "#0d9488", "#f59e0b", "#dc2626"};
    private static final List<ToDoubleFunction<LevelResult>> PERCENTILE_VALUES = List.of(
            LevelResult::p50Ms, LevelResult::p90Ms, LevelResult::p99Ms, LevelResult::p999Ms);

    private final List<BenchReport> reports;
    private final List<String> names;

    private Charts(List<BenchReport> reports) {
        this.reports = reports;
        this.names = Reports.names(reports);
    }

    static List<Chart> of(List<BenchReport> reports) {
        Charts c = new Charts(reports);
        List<Chart> charts = new ArrayList<>();
        c.throughputVsConcurrency(charts);
        c.throughputVsRate(charts);
        c.itemsVsBatchSize(charts);
        c.latencyVsThroughput(charts);
        return charts;
    }

    private void throughputVsConcurrency(List<Chart> charts) {
        List<Series> series = new ArrayList<>();
        TreeSet<Double> xs = new TreeSet<>();
        for (int i = 0; i < reports.size(); i++) {
            BenchReport r = reports.get(i);
            List<LevelResult> levels = Reports.closedLoop(r);
            if (levels.isEmpty()) {
                continue;
            }
            levels.forEach(l -> xs.add((double) l.concurrency()));
            String color = serverColor(i);
            series.add(new Series(names.get(i) + " req/s", color, false, "circle",
                    points(r, levels, l -> l.concurrency(), LevelResult::throughputRps)));
            if (levels.stream().anyMatch(l -> l.batchSize() > 1)) {
                series.add(new Series(names.get(i) + " items/s", color, true, "rect",
                        points(r, levels, l -> l.concurrency(), LevelResult::itemsPerS)));
            }
        }
        if (series.isEmpty()) {
            return;
        }
        series.addAll(limits(xs.first(), xs.last(), true));
        charts.add(new Chart("throughput-concurrency", "Throughput vs concurrency",
                "Requests completed per second at each number of requests in flight"
                        + (series.stream().anyMatch(s -> s.pointStyle() == null)
                        ? "; dashed: the raw engine's best, the limit" : ""),
                axis("concurrency (requests in flight)", xs), new Axis("per second", false, null), series));
    }

    private void throughputVsRate(List<Chart> charts) {
        List<Series> series = new ArrayList<>();
        TreeSet<Double> xs = new TreeSet<>();
        for (int i = 0; i < reports.size(); i++) {
            BenchReport r = reports.get(i);
            List<LevelResult> levels = Reports.openLoop(r);
            if (levels.isEmpty()) {
                continue;
            }
            levels.forEach(l -> xs.add(l.rate()));
            series.add(new Series(names.get(i) + " achieved req/s", serverColor(i), false, "circle",
                    points(r, levels, LevelResult::rate, LevelResult::throughputRps)));
        }
        if (series.isEmpty()) {
            return;
        }
        // A point per measured rate, so the line stays y = x between them on a log axis too.
        series.add(new Series("target rate", TARGET_COLOR, true, null,
                xs.stream().map(x -> new Point(x, x, "target")).toList()));
        charts.add(new Chart("throughput-rate", "Throughput vs target rate (open loop)",
                "Achieved requests per second against the rate asked for; below the grey line the server fell behind",
                axis("target rate (requests/s)", xs), new Axis("requests/s", false, null), series));
    }

    private void itemsVsBatchSize(List<Chart> charts) {
        List<Series> series = new ArrayList<>();
        TreeSet<Double> xs = new TreeSet<>();
        int raw = 0;
        for (int i = 0; i < reports.size(); i++) {
            BenchReport r = reports.get(i);
            if (!Reports.isRaw(r) || r.results().isEmpty()) {
                continue;
            }
            r.results().forEach(l -> xs.add((double) l.batchSize()));
            series.add(new Series(names.get(i) + " items/s", RAW_COLORS[raw++ % RAW_COLORS.length], false,
                    "triangle", points(r, r.results(), l -> l.batchSize(), LevelResult::itemsPerS)));
        }
        if (series.isEmpty()) {
            return;
        }
        series.addAll(limits(xs.first(), xs.last(), false));
        charts.add(new Chart("items-batch", "Raw engine: items/s vs batch size",
                "Rows (or images) per second when the engine is called back to back with each batch size"
                        + (series.stream().anyMatch(s -> s.pointStyle() == null) ? "; dashed: the server's best" : ""),
                axis("batch size (rows per engine call)", xs), new Axis("items/s", false, null), series));
    }

    private void latencyVsThroughput(List<Chart> charts) {
        List<Series> series = new ArrayList<>();
        double min = Double.MAX_VALUE;
        double max = 0;
        for (int i = 0; i < reports.size(); i++) {
            BenchReport r = reports.get(i);
            boolean raw = Reports.isRaw(r);
            for (int p = 0; p < PERCENTILES.length; p++) {
                ToDoubleFunction<LevelResult> value = PERCENTILE_VALUES.get(p);
                series.add(new Series(names.get(i) + " " + PERCENTILES[p], PERCENTILE_COLORS[p], raw,
                        raw ? "triangle" : "circle", points(r, r.results(), LevelResult::itemsPerS, value)));
                for (LevelResult l : r.results()) {
                    min = Math.min(min, value.applyAsDouble(l));
                    max = Math.max(max, value.applyAsDouble(l));
                }
            }
        }
        if (max == 0) {
            return;
        }
        // A log axis once the tail is far above the median, so p50 does not flatten into the floor.
        boolean log = min > 0 && max / min > 30;
        charts.add(new Chart(LATENCY, "Latency percentiles vs throughput",
                "Each point is one level; further right is more work done, higher is slower"
                        + (reports.stream().anyMatch(Reports::isRaw) ? "; dashed: raw engine, per call" : ""),
                new Axis("throughput (items/s)", false, null), new Axis("latency (ms)", log, log ? ticks125(min, max) : null),
                series));
    }

    /**
     * Horizontal reference lines across {@code [from, to]}: the raw engine's best when drawing
     * server charts ({@code rawLimits}), the servers' best when drawing raw charts.
     */
    private List<Series> limits(double from, double to, boolean rawLimits) {
        List<Series> lines = new ArrayList<>();
        int raw = 0;
        for (int i = 0; i < reports.size(); i++) {
            BenchReport r = reports.get(i);
            boolean isRaw = Reports.isRaw(r);
            String color = isRaw ? RAW_COLORS[raw++ % RAW_COLORS.length] : serverColor(i);
            if (isRaw != rawLimits || Reports.best(r).isEmpty()) {
                continue;
            }
            LevelResult best = Reports.best(r).orElseThrow();
            String at = ResultFormat.level(r, best);
            String label = names.get(i) + " best: " + ResultFormat.count(best.itemsPerS()) + " items/s (" + at + ")";
            lines.add(new Series(label, color, true, null,
                    List.of(new Point(from, best.itemsPerS(), at), new Point(to, best.itemsPerS(), at))));
        }
        return lines;
    }

    private String serverColor(int reportIndex) {
        long before = reports.subList(0, reportIndex).stream().filter(r -> !Reports.isRaw(r)).count();
        return SERVER_COLORS[(int) (before % SERVER_COLORS.length)];
    }

    private static List<Point> points(BenchReport r, List<LevelResult> levels, ToDoubleFunction<LevelResult> x,
            ToDoubleFunction<LevelResult> y) {
        return levels.stream().map(l -> new Point(x.applyAsDouble(l), y.applyAsDouble(l), ResultFormat.level(r, l)))
                .toList();
    }

    /**
     * 1-2-5 ticks per decade from the last one at or below {@code min} to the first one at or above
     * {@code max}; a log axis's own ticks crowd together near the end of each decade.
     */
    static List<Double> ticks125(double min, double max) {
        List<Double> all = new ArrayList<>();
        for (int exp = (int) Math.floor(Math.log10(min)); all.isEmpty() || all.getLast() < max; exp++) {
            for (int step : new int[] {1, 2, 5}) {
                all.add(step * Math.pow(10, exp));
            }
        }
        // Rounded through text so that 0.1 * 2 prints as 0.2, not 0.20000000000000001.
        List<Double> ticks = all.stream().map(t -> Double.valueOf(String.format(Locale.ROOT, "%.6g", t))).toList();
        int from = 0;
        while (from + 1 < ticks.size() && ticks.get(from + 1) <= min) {
            from++;
        }
        int to = ticks.size() - 1;
        while (to - 1 >= 0 && ticks.get(to - 1) >= max) {
            to--;
        }
        return ticks.subList(from, to + 1);
    }

    /** The measured values as ticks, on a log axis when they span powers of two (1, 2, 4, ... 64). */
    private static Axis axis(String title, TreeSet<Double> xs) {
        boolean log = xs.first() > 0 && xs.last() / xs.first() >= 8;
        return new Axis(title, log, List.copyOf(Objects.requireNonNull(xs)));
    }
}
