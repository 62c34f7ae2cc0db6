package dev.torchlight.bench.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.torchlight.bench.output.JsonResultWriter;
import dev.torchlight.bench.output.ResultFormat;
import dev.torchlight.bench.result.BenchReport;
import dev.torchlight.bench.result.HostInfo;
import dev.torchlight.bench.result.LevelResult;
import java.io.UncheckedIOException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** Builds the report's HTML: header, headline cards, chart frames, one table per run, inlined data. */
final class Page {
    private static final ObjectMapper SPECS = new ObjectMapper();

    private final List<BenchReport> reports;
    private final List<String> names;
    private final StringBuilder html = new StringBuilder(300_000);

    private Page(List<BenchReport> reports) {
        this.reports = reports;
        this.names = Reports.names(reports);
    }

    static String render(List<BenchReport> reports) {
        return new Page(reports).build();
    }

    private String build() {
        String models = distinct(BenchReport::model);
        html.append("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>torchlight bench: ").append(esc(models)).append("</title>\n")
                .append("<style>\n").append(Assets.CSS).append("</style>\n</head>\n<body>\n");
        header(models);
        html.append("<main>\n");
        for (int i = 0; i < reports.size(); i++) {
            if (reports.get(i).note() != null) {
                html.append("<p class=\"note\"><strong>").append(esc(names.get(i))).append(" ended early:</strong> ")
                        .append(esc(reports.get(i).note())).append("</p>\n");
            }
        }
        cards();
        List<Charts.Chart> charts = Charts.of(reports);
        html.append("<section class=\"charts\">\n");
        for (Charts.Chart c : charts) {
            // The latency chart carries the most lines: it gets a full row, and so does a chart left alone.
            boolean wide = c.id().equals(Charts.LATENCY) || charts.size() % 2 == 0 && c == charts.get(charts.size() - 2);
            html.append(wide ? "<figure class=\"wide\">\n<h2>" : "<figure>\n<h2>").append(esc(c.title()))
                    .append("</h2>\n<p>").append(esc(c.subtitle())).append("</p>\n<div class=\"plot\"><canvas id=\"").append(c.id()).append("\" role=\"img\" aria-label=\"")
                    .append(esc(c.title())).append("\"></canvas></div>\n</figure>\n");
        }
        html.append("</section>\n<h2 class=\"section\">Results</h2>\n");
        for (int i = 0; i < reports.size(); i++) {
            table(reports.get(i), names.get(i));
        }
        html.append("<footer>Made by ").append(esc(BenchReport.TOOL)).append(' ')
                .append(esc(distinct(BenchReport::version)))
                .append(". Charts by Chart.js ").append(esc(Assets.chartJsVersion()))
                .append(" (MIT License), inlined; the measured results are in the <code>bench-data</code> script"
                        + " element of this file as JSON.</footer>\n</main>\n");
        script("application/json\" id=\"bench-data", safe("[" + reports.stream().map(JsonResultWriter::toJson)
                .map(String::strip).collect(Collectors.joining(",\n")) + "]"));
        script("application/json\" id=\"chart-specs", json(charts));
        script("text/javascript", Assets.chartJs());
        script("text/javascript", Assets.SCRIPT);
        html.append("</body>\n</html>\n");
        return html.toString();
    }

    private void header(String models) {
        BenchReport first = reports.getFirst();
        HostInfo host = first.host();
        html.append("<header><div class=\"wrap\">\n<h1>torchlight bench: ").append(esc(models)).append("</h1>\n")
                .append("<p class=\"sub\">").append(esc(String.join(" vs ", names))).append("</p>\n<dl>\n");
        item("Model", models);
        item("Protocol", distinct(BenchReport::protocol));
        item("Date", distinct(BenchReport::date));
        if (host != null) {
            item("Host", host.cpu() + ", " + host.cores() + " cores");
            item("System", host.os() + "; " + host.java());
        }
        item("Target", distinct(BenchReport::url));
        html.append("</dl>\n</div></header>\n");
    }

    private void item(String term, String value) {
        html.append("<div><dt>").append(esc(term)).append("</dt><dd>").append(esc(value)).append("</dd></div>\n");
    }

    private void cards() {
        html.append("<section class=\"cards\">\n");
        for (Cards.Card c : Cards.of(reports)) {
            html.append("<div class=\"card").append(c.warn() ? " warn" : "").append("\"><div class=\"caption\">")
                    .append(esc(c.caption())).append("</div><div class=\"value\">").append(esc(c.value()))
                    .append("<span class=\"unit\">")
                    .append(esc(c.unit())).append("</span>")
                    .append("</div><div class=\"detail\">").append(esc(c.detail())).append("</div></div>\n");
        }
        html.append("</section>\n");
    }

    private void table(BenchReport r, String name) {
        boolean open = r.results().stream().anyMatch(l -> l.rate() != null);
        Optional<LevelResult> best = Reports.best(r);
        html.append("<h3>").append(esc(name)).append("<small>").append(esc(r.model() + " · " + r.url()))
                .append("</small></h3>\n<div class=\"table\"><table>\n<thead><tr><th>level</th><th>")
                .append(Reports.isRaw(r) ? "calls/s" : "req/s").append("</th><th>items/s</th>"
                        + "<th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th>"
                        + "<th>max ms</th><th>requests</th><th>errors</th>")
                .append(open ? "<th>behind schedule</th>" : "").append("</tr></thead>\n<tbody>\n");
        for (LevelResult l : r.results()) {
            html.append(best.isPresent() && best.get() == l ? "<tr class=\"best\">" : "<tr>");
            cell(ResultFormat.level(r, l));
            cell(ResultFormat.count(l.throughputRps()));
            cell(ResultFormat.count(l.itemsPerS()));
            cell(ResultFormat.ms(l.p50Ms()));
            cell(ResultFormat.ms(l.p90Ms()));
            cell(ResultFormat.ms(l.p99Ms()));
            cell(ResultFormat.ms(l.p999Ms()));
            cell(ResultFormat.ms(l.maxMs()));
            cell(Long.toString(l.requests()));
            String errors = l.errors() + (l.errorsByKind().isEmpty() ? "" : new TreeMap<>(l.errorsByKind()).entrySet()
                    .stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", ", " (", ")")));
            html.append(l.errors() > 0 ? "<td class=\"bad\">" : "<td>").append(esc(errors)).append("</td>");
            if (open) {
                cell(Long.toString(l.behindSchedule()));
            }
            html.append("</tr>\n");
        }
        html.append("</tbody>\n</table></div>\n");
    }

    private void cell(String text) {
        html.append("<td>").append(esc(text)).append("</td>");
    }

    private void script(String type, String body) {
        html.append("<script type=\"").append(type).append("\">\n").append(body).append("\n</script>\n");
    }

    private String distinct(java.util.function.Function<BenchReport, String> field) {
        Set<String> values = new LinkedHashSet<>();
        reports.forEach(r -> values.add(String.valueOf(field.apply(r))));
        return String.join(", ", values);
    }

    private static String json(Object value) {
        try {
            return safe(SPECS.writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** JSON that cannot end its script element: "<" only occurs inside strings, where its escape means the same. */
    private static String safe(String json) {
        return json.replace("<", "\\u003c");
    }

    static String esc(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
