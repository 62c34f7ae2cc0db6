package dev.torchlight.server.http.json;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.api.DataType;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Decimal text to float through {@link FlatNumberArray} and its {@link FastFloats} fast path, against the JDK. */
class FastFloatsTest {
    /** {@code text} as the one element of a JSON list of FP32; NaN when the list is declined. */
    private static float parse(String text) {
        byte[] bytes = ("[" + text + "]").getBytes(StandardCharsets.US_ASCII);
        ElementBuffer out = new ElementBuffer(4);
        if (!new FlatNumberArray(bytes, 1, bytes.length).read(DataType.FP32, out, Long.MAX_VALUE)) {
            return Float.NaN;
        }
        return out.finish().order(ByteOrder.LITTLE_ENDIAN).getFloat();
    }

    /** Whatever is decoded must be bit-for-bit what the JDK's correctly rounded parser gives. */
    private static void agreesWithJdk(String text) {
        float value = parse(text);
        if (!Float.isNaN(value)) {
            float jdk = Float.parseFloat(text);
            // A JSON integer is read as its integer value, so -0 is 0 (+ 0.0f turns -0.0 into 0.0).
            float expected = text.matches("-?[0-9]+") ? jdk + 0.0f : jdk;
            assertThat(Float.floatToRawIntBits(value)).as(text).isEqualTo(Float.floatToRawIntBits(expected));
        }
    }

    @Test
    void shortNumbersTakeTheFastPathExactly() {
        for (String text : List.of("0", "1", "-1", "0.5", "0.1", "0.123456789", "-3.5e-3", "1E10", "2.5e+2",
                "123456789012345", "0.000001", "16777218")) {
            assertThat(parse(text)).as(text).isNotNaN();
            agreesWithJdk(text);
        }
        // As Jackson reads them: the integer -0 is 0, the decimal -0.0 keeps its sign.
        assertThat(Float.floatToRawIntBits(parse("-0"))).isEqualTo(Float.floatToRawIntBits(0.0f));
        assertThat(Float.floatToRawIntBits(parse("-0.0"))).isEqualTo(Float.floatToRawIntBits(-0.0f));
    }

    @Test
    void numbersOutsideTheFastPathAreStillExact() {
        for (String text : List.of("1234567890123456", "0.30000000000000004", "1e23", "1e-30", "1e-46", "1e40",
                "3.4028235677973366e38", "123456789012345678901234567890")) {
            assertThat(parse(text)).as(text).isNotNaN();
            agreesWithJdk(text);
        }
    }

    @Test
    void whatIsNotAJsonNumberIsDeclined() {
        for (String text : List.of("", "-", ".5", "1.", "1e", "1e+", "--1", "+1", "1x", "01", "0x10", "Infinity", "NaN",
                "\"1\"", "1 2")) {
            assertThat(parse(text)).as(text).isNaN();
        }
    }

    @Test
    void exactFloatMidpointsAreLeftToTheExactParser() {
        // 16777217 = 2^24 + 1 lies exactly halfway between the floats 2^24 and 2^24 + 2.
        assertThat(FastFloats.fromDecimal(16777217, 0, false)).isNaN();
        assertThat(FastFloats.fromDecimal(16777219, 0, false)).isNaN();
        agreesWithJdk("16777217");
        agreesWithJdk("33554434");
        agreesWithJdk(new BigDecimal(1 + Math.scalb(1.0, -24)).toPlainString());
    }

    @Test
    void doublesTakeTheFastPathExactly() {
        assertThat(FastFloats.doubleFromDecimal(1, -1, false)).isEqualTo(0.1);
        assertThat(FastFloats.doubleFromDecimal(35, -4, true)).isEqualTo(-3.5e-3);
        assertThat(FastFloats.doubleFromDecimal(1, 23, false)).isNaN();
        assertThat(FastFloats.doubleFromDecimal(1L << 53, 0, false)).isNaN();
    }

    @Test
    void agreesWithTheJdkOnRandomNumbers() {
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 300_000; i++) {
            agreesWithJdk(Float.toString(Float.intBitsToFloat(random.nextInt())));
            agreesWithJdk(Double.toString(random.nextDouble(-1000, 1000)));
            StringBuilder digits = new StringBuilder();
            int n = 1 + random.nextInt(16);
            for (int d = 0; d < n; d++) {
                digits.append((char) ('0' + random.nextInt(10)));
            }
            int point = random.nextInt(n + 1);
            String text = (random.nextBoolean() ? "-" : "") + digits.substring(0, Math.max(1, point))
                    + (point < n && point > 0 ? "." + digits.substring(point) : "")
                    + (random.nextInt(4) == 0 ? "e" + (random.nextInt(61) - 30) : "");
            agreesWithJdk(text);
        }
    }

    @Test
    void readsFromAnOffset() {
        byte[] bytes = "xx[0.25]yy".getBytes(StandardCharsets.US_ASCII);
        ElementBuffer out = new ElementBuffer(4);
        FlatNumberArray array = new FlatNumberArray(bytes, 3, bytes.length);
        assertThat(array.read(DataType.FP32, out, Long.MAX_VALUE)).isTrue();
        assertThat(array.position()).isEqualTo(8);
        ByteBuffer data = out.finish().order(ByteOrder.LITTLE_ENDIAN);
        assertThat(data.getFloat()).isEqualTo(0.25f);
    }
}
