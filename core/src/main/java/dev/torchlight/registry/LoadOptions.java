package dev.torchlight.registry;

/**
 * How versions are loaded.
 *
 * @param histograms whether each version's statistics keep latency and batch-size histograms
 *     (for metrics) or only totals
 * @param warmUp whether each instance runs warm-up requests ({@link Warmup}) before it serves; the
 *     server always does, unit tests that count engine calls do not
 */
public record LoadOptions(boolean histograms, boolean warmUp) {
    /** What a server does: histograms and warm-up. */
    public static final LoadOptions SERVING = new LoadOptions(true, true);

    /** These options, keeping histograms only when something reads them. */
    public LoadOptions withHistograms(boolean keep) {
        return new LoadOptions(keep, warmUp);
    }

    /** These options without warm-up. */
    public LoadOptions withoutWarmUp() {
        return new LoadOptions(histograms, false);
    }
}
