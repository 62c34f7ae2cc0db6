package dev.torchlight.api;

import java.util.Arrays;
import java.util.stream.Collectors;

/** Helpers for shapes given as {@code long[]}. */
public final class Shapes {
    private Shapes() {}

    /** Product of the dimensions; 1 for a scalar. */
    public static long elementCount(long[] shape) {
        long count = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + format(shape));
            }
            count = Math.multiplyExact(count, d);
        }
        return count;
    }

    /** {@code [1, 3, 32, 32]}. */
    public static String format(long[] shape) {
        return Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining(", ", "[", "]"));
    }
}
