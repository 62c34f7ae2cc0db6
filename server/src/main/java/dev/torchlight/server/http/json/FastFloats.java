package dev.torchlight.server.http.json;

/**
 * A decimal {@code ±digits × 10^exponent} to float or double, correctly rounded, for the common short
 * numbers that tensors arrive as ({@code 0.12345678}, {@code -3.5e-3}): one floating-point
 * multiplication or division instead of a general parser. It handles digits that fit in 53 bits
 * and decimal exponents within ±22, where both the digits and the power of ten are exact doubles,
 * so the one operation gives the correctly rounded double (Clinger's fast path). Rounding that
 * double to float is then exact too, except when it lands exactly halfway between two floats;
 * that case, like every number outside the fast path, is left to the caller's general parser
 * ({@link #NOT_HANDLED}).
 */
final class FastFloats {
    /** Returned for text this class leaves to a general parser; no JSON number parses to NaN. */
    static final float NOT_HANDLED = Float.NaN;

    private static final double[] POWERS_OF_TEN = new double[23];

    static {
        double p = 1;
        for (int i = 0; i < POWERS_OF_TEN.length; i++) {
            POWERS_OF_TEN[i] = p;
            p *= 10;
        }
    }

    private FastFloats() {}

    /**
     * {@code ±digits × 10^exponent} as a float, whose digits fit in 53 bits.
     *
     * @return the correctly rounded value, or {@link #NOT_HANDLED} where the fast path is not exact
     */
    static float fromDecimal(long digits, int exponent, boolean negative) {
        if (digits == 0) {
            return negative ? -0.0f : 0.0f;
        }
        double value = exactDouble(digits, exponent);
        if (Double.isNaN(value) || value < Float.MIN_NORMAL || value > Float.MAX_VALUE) {
            return NOT_HANDLED; // outside the fast path, or subnormal or overflowing floats, which round differently
        }
        // The 29 low bits of a double's fraction are what float drops; exactly halfway is a tie
        // the double may have produced by its own rounding, so it is decided by the exact parser.
        if ((Double.doubleToRawLongBits(value) & 0x1FFF_FFFFL) == 0x1000_0000L) {
            return NOT_HANDLED;
        }
        float f = (float) value;
        return negative ? -f : f;
    }

    /**
     * {@code ±digits × 10^exponent} as a double, whose digits fit in 53 bits.
     *
     * @return the correctly rounded value, or {@code NaN} where the fast path is not exact
     */
    static double doubleFromDecimal(long digits, int exponent, boolean negative) {
        if (digits == 0) {
            return negative ? -0.0 : 0.0;
        }
        double value = exactDouble(digits, exponent);
        return negative ? -value : value;
    }

    /** Clinger's fast path: both operands exact, so the one operation rounds correctly; else NaN. */
    private static double exactDouble(long digits, int exponent) {
        if (digits >= 1L << 53 || exponent < -22 || exponent > 22) {
            return Double.NaN;
        }
        return exponent < 0 ? digits / POWERS_OF_TEN[-exponent] : digits * POWERS_OF_TEN[exponent];
    }
}
