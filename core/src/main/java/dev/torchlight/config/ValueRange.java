package dev.torchlight.config;

/**
 * The values an integer input may hold, both ends included: an input's {@code value_range}, e.g.
 * the rows of the embedding table its ids index. A request with an element outside is refused
 * before it is queued, so that a bad id is the client's 400 and never an engine failure.
 *
 * @param min the smallest allowed value
 * @param max the largest allowed value, at least {@code min}
 */
public record ValueRange(long min, long max) {
    public ValueRange {
        if (min > max) {
            throw new IllegalArgumentException("value range [" + min + ", " + max + "] is empty: min exceeds max");
        }
    }

    /** Whether {@code value} lies in the range. */
    public boolean contains(long value) {
        return value >= min && value <= max;
    }

    @Override
    public String toString() {
        return "[" + min + ", " + max + "]";
    }
}
