package dev.torchlight.server.http.json;

/**
 * Conversions to and from the 16-bit float formats, rounding to nearest, ties to even.
 *
 * <p>Going double → float → half rounds twice and can land on the wrong side of a tie. Rounding
 * the double to a float "to odd" first (truncate, and set the last bit when anything was cut
 * off) keeps enough information for the second rounding to be the correct single rounding,
 * since a float has more than two bits beyond either 16-bit format's precision.
 */
public final class HalfFloats {
    private HalfFloats() {}

    /** IEEE binary16 bits nearest to {@code value}. */
    public static short toFloat16(double value) {
        return Float.floatToFloat16(roundToOdd(value));
    }

    /** bfloat16 bits nearest to {@code value}. */
    public static short toBFloat16(double value) {
        return bfloat16(roundToOdd(value));
    }

    /** bfloat16 bits nearest to {@code value}: the upper 16 bits of the float, rounded to even. */
    public static short bfloat16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x0040); // keep sign, force a quiet NaN
        }
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    /** The float a bfloat16 stands for (exact). */
    public static float fromBFloat16(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** {@code value} as a float, truncated toward zero with the last bit set when inexact. */
    static float roundToOdd(double value) {
        float nearest = (float) value;
        if (nearest == value || Double.isNaN(value)) {
            return nearest;
        }
        int bits = Float.floatToRawIntBits(nearest);
        if (Math.abs((double) nearest) > Math.abs(value)) {
            bits--; // one step toward zero (sign-magnitude); infinity becomes the largest float
        }
        return Float.intBitsToFloat(bits | 1);
    }
}
