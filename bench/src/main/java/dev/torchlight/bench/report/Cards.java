package dev.torchlight.bench.report;

import dev.torchlight.bench.output.ResultFormat;
import dev.torchlight.bench.result.BenchReport;
import dev.torchlight.bench.result.LevelResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The headline numbers at the top of the page: what a reader wants before any chart. */
final class Cards {
    /** One headline: a caption, a big value in a unit and a line of context; {@code warn} for trouble. */
    record Card(String caption, String value, String unit, String detail, boolean warn) {}

    private Cards() {}

    static List<Card> of(List<BenchReport> reports) {
        List<String> names = Reports.names(reports);
        List<Card> cards = new ArrayList<>();
        for (int i = 0; i < reports.size(); i++) {
            BenchReport r = reports.get(i);
            Optional<LevelResult> best = Reports.best(r);
            if (best.isEmpty()) {
                continue;
            }
            LevelResult b = best.get();
            String unit = Reports.isRaw(r) ? "items/s" : "req/s";
            double value = Reports.isRaw(r) ? b.itemsPerS() : b.throughputRps();
            cards.add(new Card("Best throughput, " + names.get(i), ResultFormat.count(value), unit,
                    ResultFormat.level(r, b) + ", p99 " + ResultFormat.ms(b.p99Ms()) + " ms", false));
        }
        overhead(reports, cards);
        ratio(reports, cards);
        long errors = reports.stream().flatMap(r -> r.results().stream()).mapToLong(LevelResult::errors).sum();
        long requests = reports.stream().flatMap(r -> r.results().stream()).mapToLong(LevelResult::requests).sum();
        cards.add(new Card("Errors", Long.toString(errors), "",
                "of " + requests + " requests measured", errors > 0));
        return cards;
    }

    /** Server p50 at concurrency 1 minus raw p50 at batch size 1, one thread: what the server adds. */
    private static void overhead(List<BenchReport> reports, List<Card> cards) {
        Optional<LevelResult> server = reports.stream().filter(r -> !Reports.isRaw(r))
                .flatMap(r -> Reports.closedLoop(r).stream())
                .filter(l -> l.concurrency() == 1 && l.batchSize() == 1).findFirst();
        Optional<LevelResult> raw = reports.stream().filter(Reports::isRaw).flatMap(r -> r.results().stream())
                .filter(l -> l.batchSize() == 1 && l.concurrency() != null && l.concurrency() == 1).findFirst();
        if (server.isPresent() && raw.isPresent() && sameModel(reports)) {
            double us = (server.get().p50Ms() - raw.get().p50Ms()) * 1000;
            cards.add(new Card("Server overhead at concurrency 1", String.format(Locale.ROOT, "%.0f", us), "µs",
                    "p50 " + ResultFormat.ms(server.get().p50Ms()) + " ms server − "
                            + ResultFormat.ms(raw.get().p50Ms()) + " ms raw engine", false));
        }
    }

    /** The best server throughput as a share of the raw engine's best. */
    private static void ratio(List<BenchReport> reports, List<Card> cards) {
        Optional<LevelResult> server = reports.stream().filter(r -> !Reports.isRaw(r))
                .flatMap(r -> Reports.best(r).stream()).max((a, b) -> Double.compare(a.itemsPerS(), b.itemsPerS()));
        Optional<LevelResult> raw = reports.stream().filter(Reports::isRaw)
                .flatMap(r -> Reports.best(r).stream()).max((a, b) -> Double.compare(a.itemsPerS(), b.itemsPerS()));
        if (server.isPresent() && raw.isPresent() && raw.get().itemsPerS() > 0 && sameModel(reports)) {
            cards.add(new Card("Server vs raw engine",
                    String.format(Locale.ROOT, "%.0f", 100 * server.get().itemsPerS() / raw.get().itemsPerS()), "%",
                    "best server items/s ÷ best raw items/s", false));
        }
    }

    private static boolean sameModel(List<BenchReport> reports) {
        return reports.stream().map(BenchReport::model).distinct().count() == 1;
    }
}
