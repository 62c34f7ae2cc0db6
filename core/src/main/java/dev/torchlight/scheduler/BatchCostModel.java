package dev.torchlight.scheduler;

/**
 * What one instance's engine runs cost by batch size, learned online: a least-squares line
 * {@code cost(b) = fixed + perRow x b} over the recent runs, each older run weighing
 * {@link #DECAY} times less, so it follows the machine's drift. Written on the instance's thread,
 * read by the scheduler: synchronized, uncontended in practice.
 */
final class BatchCostModel {
    /** Weight kept per newer observation: the fit looks at roughly the last 50 runs. */
    static final double DECAY = 0.98;

    private final int instance;
    // Decayed sums of weight, b, c, b^2 and b*c.
    private double w;
    private double sb;
    private double sc;
    private double sbb;
    private double sbc;
    private long runs;

    BatchCostModel(int instance) {
        this.instance = instance;
    }

    /** A run of {@code rows} rows took {@code nanos}. */
    synchronized void observe(int rows, long nanos) {
        w = w * DECAY + 1;
        sb = sb * DECAY + rows;
        sc = sc * DECAY + nanos;
        sbb = sbb * DECAY + (double) rows * rows;
        sbc = sbc * DECAY + (double) rows * nanos;
        runs++;
    }

    /**
     * The fitted line. With runs of one size only, the line cannot be told apart from its slope: then
     * the whole cost counts as fixed up to that size and grows in proportion beyond it (what a larger
     * batch costs is overestimated rather than under, which keeps a latency bound safe).
     */
    synchronized BatchingState.BatchCost fit() {
        if (runs == 0) {
            return new BatchingState.BatchCost(instance, 0, 0, 0);
        }
        double meanB = sb / w;
        double meanC = sc / w;
        double varB = sbb / w - meanB * meanB;
        if (varB < 0.25) {
            return new BatchingState.BatchCost(instance, meanC, 0, runs);
        }
        double perRow = (sbc / w - meanB * meanC) / varB;
        double fixed = meanC - perRow * meanB;
        if (perRow < 0) {
            // Noise can tilt the line down; a larger batch never costs less.
            perRow = 0;
            fixed = meanC;
        } else if (fixed < 0) {
            fixed = 0;
            perRow = meanC / meanB;
        }
        return new BatchingState.BatchCost(instance, fixed, perRow, runs);
    }

    /** The fit and what predicting from it needs, taken once for a whole decision. */
    synchronized Estimate estimate() {
        return new Estimate(fit(), runs == 0 ? 0 : sb / w);
    }

    /**
     * A snapshot of the learned cost.
     *
     * @param fit the fitted line
     * @param meanRows the runs' mean size (decayed as the sums are)
     */
    record Estimate(BatchingState.BatchCost fit, double meanRows) {
        /** Whether any run was seen. */
        boolean known() {
            return fit.runs() > 0;
        }

        /** The predicted cost of {@code rows} rows: the fit, and never less than in proportion for one-size data. */
        double predictNanos(int rows) {
            if (fit.perRowNanos() == 0 && known()) {
                return fit.fixedNanos() * Math.max(1.0, rows / meanRows);
            }
            return fit.predictNanos(rows);
        }
    }
}
