package dev.torchlight.bench.report;

import dev.torchlight.bench.output.JsonResultWriter;
import dev.torchlight.bench.result.BenchReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A self-contained HTML report of one or more bench runs: headline numbers, charts (throughput vs
 * concurrency, vs target rate, items/s vs batch size, latency percentiles vs throughput) and a
 * table per run. Chart.js and the results are inlined, so the file opens offline and can be mailed
 * or archived on its own. Given a server run and a raw-engine run of the same model, the charts put
 * them side by side and the headline shows the server's overhead and its share of the raw limit.
 *
 * <p>Also a command: {@code HtmlReport DIR RESULT.json...} writes {@code DIR/index.html} from
 * result files written by {@link JsonResultWriter}.
 */
public final class HtmlReport {
    /** The file {@link #write} creates in its folder. */
    public static final String FILE = "index.html";

    private HtmlReport() {}

    /**
     * Writes {@code dir/index.html}, creating {@code dir} if needed.
     *
     * @param reports at least one; shown in this order
     * @return the file written
     */
    public static Path write(Path dir, List<BenchReport> reports) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(FILE);
        Files.writeString(file, render(reports));
        return file;
    }

    /** The page as a string. */
    public static String render(List<BenchReport> reports) {
        if (reports.isEmpty()) {
            throw new IllegalArgumentException("a report needs at least one bench result");
        }
        return Page.render(List.copyOf(reports));
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: HtmlReport DIR RESULT.json...");
        }
        List<BenchReport> reports = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            reports.add(JsonResultWriter.read(Path.of(args[i])));
        }
        System.out.println("wrote " + write(Path.of(args[0]), reports));
    }
}
