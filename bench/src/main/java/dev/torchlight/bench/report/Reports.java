package dev.torchlight.bench.report;

import dev.torchlight.bench.result.BenchReport;
import dev.torchlight.bench.result.LevelResult;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/** What kind of run a report is, and how the page names it. */
final class Reports {
    private Reports() {}

    static boolean isRaw(BenchReport r) {
        return "raw".equals(r.protocol());
    }

    /** Closed-loop levels of a server run (a fixed number of requests in flight). */
    static List<LevelResult> closedLoop(BenchReport r) {
        return isRaw(r) ? List.of() : r.results().stream().filter(l -> l.rate() == null).toList();
    }

    /** Open-loop levels of a server run (a fixed request rate). */
    static List<LevelResult> openLoop(BenchReport r) {
        return isRaw(r) ? List.of() : r.results().stream().filter(l -> l.rate() != null).toList();
    }

    /** The level with the most items per second. */
    static Optional<LevelResult> best(BenchReport r) {
        return r.results().stream().max(Comparator.comparingDouble(LevelResult::itemsPerS));
    }

    /**
     * A short name for each report, in order: {@code server v2-json} or {@code raw engine},
     * prefixed by the model when the page shows several models, numbered when names repeat.
     */
    static List<String> names(List<BenchReport> all) {
        boolean models = all.stream().map(BenchReport::model).distinct().count() > 1;
        List<String> base = all.stream().map(r -> (models ? r.model() + " " : "") + kind(r)).toList();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < base.size(); i++) {
            String n = base.get(i);
            long before = base.subList(0, i).stream().filter(n::equals).count();
            names.add(before == 0 ? n : n + " #" + (before + 1));
        }
        return names;
    }

    private static String kind(BenchReport r) {
        if (!isRaw(r)) {
            return "server " + r.protocol();
        }
        Integer threads = r.results().isEmpty() ? null : r.results().getFirst().concurrency();
        return threads != null && threads > 1 ? "raw engine x" + threads + " threads" : "raw engine";
    }
}
