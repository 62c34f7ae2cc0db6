package dev.torchlight.server.http.json;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FastFloatsTest {
    /** Whatever FastFloats answers must be bit-for-bit what the JDK's correctly rounded parser gives. */
    private static void agreesWithJdk(String text) {
        float fast = FastFloats.parse(text.toCharArray(), 0, text.length());
        if (!Float.isNaN(fast)) {
            assertThat(Float.floatToRawIntBits(fast)).as(text)
                    .isEqualTo(Float.floatToRawIntBits(Float.parseFloat(text)));
        }
    }

    @Test
    void shortNumbersAreHandledAndExact() {
        for (String text : List.of("0", "-0", "1", "-1", "0.5", "0.1", "0.123456789", "-3.5e-3", "1E10", "2.5e+2",
                "123456789012345", "0.000001", "16777218")) {
            float fast = FastFloats.parse(text.toCharArray(), 0, text.length());
            assertThat(fast).as(text).isNotNaN();
            assertThat(Float.floatToRawIntBits(fast)).as(text)
                    .isEqualTo(Float.floatToRawIntBits(Float.parseFloat(text)));
        }
    }

    @Test
    void leavesWhatItCannotDoExactlyToTheGeneralParser() {
        for (String text : List.of("", "-", ".5", "1.", "1e", "1e+", "--1", "1x", "1234567890123456",
                "1e23", "1e-30", "1e40", "0x10", "Infinity")) {
            assertThat(FastFloats.parse(text.toCharArray(), 0, text.length())).as(text).isNaN();
        }
    }

    @Test
    void exactFloatMidpointsAreLeftToTheGeneralParser() {
        // 16777217 = 2^24 + 1 lies exactly halfway between the floats 2^24 and 2^24 + 2.
        assertThat(FastFloats.parse("16777217".toCharArray(), 0, 8)).isNaN();
        assertThat(FastFloats.parse("16777219".toCharArray(), 0, 8)).isNaN();
        agreesWithJdk("16777217");
        agreesWithJdk("33554434");
        agreesWithJdk(new BigDecimal(1 + Math.scalb(1.0, -24)).toPlainString());
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
    void readsAnOffsetSlice() {
        char[] buffer = "xx0.25yy".toCharArray();
        assertThat(FastFloats.parse(buffer, 2, 4)).isEqualTo(0.25f);
    }
}
