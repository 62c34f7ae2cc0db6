package dev.torchlight.server.http.json;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;
import java.util.function.IntToDoubleFunction;
import org.junit.jupiter.api.Test;

/**
 * Checks both 16-bit conversions against an exact reference (BigDecimal distances, ties to even)
 * at every tie point, one double-ulp either side of it (where rounding through float goes wrong),
 * and at random values.
 */
class HalfFloatsTest {

    @Test
    void fp16KnownValues() {
        assertThat(HalfFloats.toFloat16(1.0)).isEqualTo((short) 0x3C00);
        assertThat(HalfFloats.toFloat16(-2.0)).isEqualTo((short) 0xC000);
        assertThat(HalfFloats.toFloat16(65504.0)).isEqualTo((short) 0x7BFF); // largest finite
        assertThat(HalfFloats.toFloat16(65520.0)).isEqualTo((short) 0x7C00); // halfway to 65536: to infinity (even)
        assertThat(HalfFloats.toFloat16(65519.99)).isEqualTo((short) 0x7BFF);
        assertThat(HalfFloats.toFloat16(1e300)).isEqualTo((short) 0x7C00);
        assertThat(HalfFloats.toFloat16(Math.pow(2, -24))).isEqualTo((short) 0x0001); // smallest subnormal
        assertThat(HalfFloats.toFloat16(Math.pow(2, -25))).isEqualTo((short) 0x0000); // tie to even zero
        assertThat(HalfFloats.toFloat16(-0.0)).isEqualTo((short) 0x8000);
        assertThat(Float.isNaN(Float.float16ToFloat(HalfFloats.toFloat16(Double.NaN)))).isTrue();
        assertThat(HalfFloats.toFloat16(Double.NEGATIVE_INFINITY)).isEqualTo((short) 0xFC00);
        // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even (1.0); a hair above rounds up.
        assertThat(HalfFloats.toFloat16(1 + Math.pow(2, -11))).isEqualTo((short) 0x3C00);
        assertThat(HalfFloats.toFloat16(1 + Math.pow(2, -11) + Math.pow(2, -40))).isEqualTo((short) 0x3C01);
    }

    @Test
    void bf16KnownValues() {
        assertThat(HalfFloats.toBFloat16(1.0)).isEqualTo((short) 0x3F80);
        assertThat(HalfFloats.toBFloat16(-1.5)).isEqualTo((short) 0xBFC0);
        assertThat(HalfFloats.toBFloat16(1 + Math.pow(2, -8))).isEqualTo((short) 0x3F80); // tie: even
        assertThat(HalfFloats.toBFloat16(1 + 3 * Math.pow(2, -8))).isEqualTo((short) 0x3F82); // tie: even, up
        assertThat(HalfFloats.toBFloat16(1 + Math.pow(2, -8) + Math.pow(2, -40))).isEqualTo((short) 0x3F81);
        assertThat(HalfFloats.toBFloat16(1e39)).isEqualTo((short) 0x7F80);
        assertThat(HalfFloats.toBFloat16(Float.MAX_VALUE)).isEqualTo((short) 0x7F80);
        assertThat(Float.isNaN(HalfFloats.fromBFloat16(HalfFloats.toBFloat16(Double.NaN)))).isTrue();
        assertThat(HalfFloats.fromBFloat16((short) 0x4049)).isEqualTo(3.140625f);
    }

    @Test
    void fp16MatchesExactRoundingEverywhere() {
        checkAgainstReference(bits -> Float.float16ToFloat((short) bits), 0x7BFF, 65536.0, HalfFloats::toFloat16,
                h -> Float.float16ToFloat(h));
    }

    @Test
    void bf16MatchesExactRoundingEverywhere() {
        double overflow = Math.pow(2, 128);
        checkAgainstReference(bits -> HalfFloats.fromBFloat16((short) bits), 0x7F7F, overflow, HalfFloats::toBFloat16,
                HalfFloats::fromBFloat16);
    }

    private interface Converter {
        short convert(double value);
    }

    private interface Decoder {
        float decode(short bits);
    }

    /**
     * @param value the non-negative finite value of each bit pattern 0..maxFinite
     * @param overflow where the next binade would start (the "value" of infinity for rounding)
     */
    private static void checkAgainstReference(IntToDoubleFunction value, int maxFinite, double overflow,
            Converter converter, Decoder decoder) {
        double[] values = new double[maxFinite + 2];
        for (int bits = 0; bits <= maxFinite; bits++) {
            values[bits] = value.applyAsDouble(bits);
        }
        values[maxFinite + 1] = overflow;
        DoubleUnaryOperator reference = d -> reference(values, d);
        int checked = 0;
        for (int bits = 0; bits <= maxFinite; bits++) {
            double mid = (values[bits] + values[bits + 1]) / 2; // exact in double
            for (double d : new double[] {mid, Math.nextUp(mid), Math.nextDown(mid), values[bits]}) {
                assertSame(converter, decoder, reference, d);
                assertSame(converter, decoder, reference, -d);
                checked++;
            }
        }
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 200_000; i++) {
            double d = values[random.nextInt(maxFinite + 1)] * (1 + random.nextDouble() * 0.01);
            assertSame(converter, decoder, reference, d);
        }
        assertThat(checked).isGreaterThan(1000);
    }

    private static void assertSame(Converter converter, Decoder decoder, DoubleUnaryOperator reference, double d) {
        double expected = Math.copySign(reference.applyAsDouble(Math.abs(d)), d);
        double actual = decoder.decode(converter.convert(d));
        if (Double.compare(actual, expected) != 0) {
            throw new AssertionError("value " + d + " (" + new BigDecimal(d) + ") converted to " + actual
                    + ", expected " + expected);
        }
    }

    /** The nearest of {@code values} (sorted, last one standing for infinity) to d >= 0, ties to even index. */
    private static double reference(double[] values, double d) {
        int i = Arrays.binarySearch(values, d);
        if (i >= 0) {
            return i == values.length - 1 ? Double.POSITIVE_INFINITY : values[i];
        }
        int upper = -i - 1;
        if (upper >= values.length) {
            return Double.POSITIVE_INFINITY;
        }
        int lower = upper - 1;
        BigDecimal x = new BigDecimal(d);
        int cmp = x.subtract(new BigDecimal(values[lower])).compareTo(new BigDecimal(values[upper]).subtract(x));
        int chosen = cmp < 0 ? lower : cmp > 0 ? upper : (lower % 2 == 0 ? lower : upper);
        return chosen == values.length - 1 ? Double.POSITIVE_INFINITY : values[chosen];
    }
}
