package dev.torchlight.bench.output;

import dev.torchlight.bench.result.BenchReport;
import dev.torchlight.bench.result.LevelResult;
import java.util.Locale;

/** How results are shown to people: level labels and rounded numbers, the same in text, markdown and HTML. */
public final class ResultFormat {
    private ResultFormat() {}

    /** What a level varied: {@code batch 8} (raw), {@code rate 500/s} (open loop) or {@code conc 8}. */
    public static String level(BenchReport report, LevelResult level) {
        if ("raw".equals(report.protocol())) {
            String threads = level.concurrency() != null && level.concurrency() > 1
                    ? " x" + level.concurrency() + " thr" : "";
            return "batch " + level.batchSize() + threads;
        }
        String batch = level.batchSize() > 1 ? " batch " + level.batchSize() : "";
        if (level.rate() != null) {
            return "rate " + count(level.rate()) + "/s" + batch;
        }
        return "conc " + level.concurrency() + batch;
    }

    /** A rate or count: whole numbers as such, else about three significant digits (27.5, 6.50, 0.47). */
    public static String count(double value) {
        double a = Math.abs(value);
        String pattern = value == Math.rint(value) || a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : "%.2f";
        return String.format(Locale.ROOT, pattern, value);
    }

    /** Milliseconds to about three significant digits: 0.417, 1.25, 55.0, 1160. */
    public static String ms(double value) {
        double a = Math.abs(value);
        String pattern = a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : "%.3f";
        return String.format(Locale.ROOT, pattern, value);
    }
}
