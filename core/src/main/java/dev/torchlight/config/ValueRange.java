package dev.torchlight.config;

import java.util.Arrays;
import java.util.StringJoiner;

/**
 * The values an integer input may hold, both ends included: an input's {@code value_range}, e.g.
 * the rows of the embedding table its ids index. One range for every element ({@code [min, max]}),
 * or one per column ({@code [[min, max], ...]}: element {@code i} of the last dimension, for an input
 * that packs several categorical ids, each indexing its own table). A request with an element outside
 * is refused before it is queued, so that a bad id is the client's 400 and never an engine failure.
 *
 * @param mins the smallest allowed value of each column (one entry: of every element)
 * @param maxs the largest allowed value of each column, at least its min
 */
public record ValueRange(long[] mins, long[] maxs) {
    public ValueRange {
        if (mins.length == 0 || mins.length != maxs.length) {
            throw new IllegalArgumentException("value range needs as many maxima as minima, at least one; got "
                    + mins.length + " and " + maxs.length);
        }
        mins = mins.clone();
        maxs = maxs.clone();
        for (int c = 0; c < mins.length; c++) {
            if (mins[c] > maxs[c]) {
                throw new IllegalArgumentException("value range [" + mins[c] + ", " + maxs[c] + "]"
                        + (mins.length > 1 ? " of column " + c : "") + " is empty: min exceeds max");
            }
        }
    }

    /** One range for every element. */
    public ValueRange(long min, long max) {
        this(new long[] {min}, new long[] {max});
    }

    @Override
    public long[] mins() {
        return mins.clone();
    }

    @Override
    public long[] maxs() {
        return maxs.clone();
    }

    /** How many columns have their own range; 1 when one range holds for every element. */
    public int columns() {
        return mins.length;
    }

    /** The smallest value allowed at flat element {@code element} of an input. */
    public long min(long element) {
        return mins[(int) (element % mins.length)];
    }

    /** The largest value allowed at flat element {@code element} of an input. */
    public long max(long element) {
        return maxs[(int) (element % maxs.length)];
    }

    /** Whether {@code value} is allowed at flat element {@code element} of an input. */
    public boolean contains(long element, long value) {
        int c = (int) (element % mins.length);
        return value >= mins[c] && value <= maxs[c];
    }

    /** The range of the column holding flat element {@code element}, as the config writes it. */
    public String describe(long element) {
        int c = (int) (element % mins.length);
        return "[" + mins[c] + ", " + maxs[c] + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ValueRange r && Arrays.equals(mins, r.mins) && Arrays.equals(maxs, r.maxs);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(mins) + Arrays.hashCode(maxs);
    }

    @Override
    public String toString() {
        if (mins.length == 1) {
            return describe(0);
        }
        StringJoiner all = new StringJoiner(", ", "[", "]");
        for (int c = 0; c < mins.length; c++) {
            all.add(describe(c));
        }
        return all.toString();
    }
}
