package dev.torchlight.server.http.json;

import com.fasterxml.jackson.core.io.NumberInput;
import dev.torchlight.api.DataType;

/**
 * Decodes a flat JSON array of plain numbers ({@code [0.1, -2.5e-3, 7]}), the usual form of tensor
 * data, from UTF-8 bytes straight into a tensor buffer: one pass over the bytes, with no token
 * objects or text copies in between. A general tokenizer costs more than the arithmetic here.
 *
 * <p>It judges nothing: nesting, strings, literals ({@code NaN}, {@code true}), integers out of the
 * type's range, numbers longer than {@link #MAX_NUMBER_LENGTH} and malformed JSON all make
 * {@link #read} answer false, and the caller reads the array the general way, which accepts or
 * words the error exactly as before. What it does decode is bit-for-bit what that way gives:
 * floats are rounded correctly (a fast exact path, else Jackson's parser).
 */
final class FlatNumberArray {
    /** Jackson's default limit on a number's length; longer ones are left to Jackson to refuse. */
    static final int MAX_NUMBER_LENGTH = 1000;

    /** Significant digits kept exactly in a long; a number with more goes to the exact parser. */
    private static final int MAX_LONG_DIGITS = 18;

    private final byte[] in;
    private final int end;
    private int pos;
    private long count;
    private int newlines;
    private int lineStart = -1;
    private char[] scratch;

    // The number just scanned: in[numberStart, pos), ±digits × 10^exponent when exact.
    private int numberStart;
    private boolean negative;
    private long digits;
    private int exponent;
    private boolean exact;
    private boolean integer;

    /**
     * @param in the bytes
     * @param from the index just after the array's {@code [}
     * @param end the end of the readable bytes
     */
    FlatNumberArray(byte[] in, int from, int end) {
        this.in = in;
        this.pos = from;
        this.end = end;
    }

    /** Elements read; valid after {@link #read} answered true. */
    long count() {
        return count;
    }

    /** The index just after the closing {@code ]}; valid after {@link #read} answered true. */
    int position() {
        return pos;
    }

    /** Line breaks inside the array, for the caller's line numbers. */
    int newlines() {
        return newlines;
    }

    /** The index where the last line inside the array starts; valid when {@link #newlines} is not 0. */
    int lineStart() {
        return lineStart;
    }

    /**
     * Reads the array's elements into {@code out}, storing the first {@code storeLimit} and counting
     * the rest.
     *
     * @return true when the array was flat plain numbers of {@code type} up to its {@code ]};
     *     false otherwise, with what was written to {@code out} to be discarded by the caller
     */
    boolean read(DataType type, ElementBuffer out, long storeLimit) {
        if (type == DataType.BOOL) {
            return false;
        }
        skipWhitespace();
        while (true) {
            if (!number()) {
                return false;
            }
            if (!store(type, out, count < storeLimit)) {
                return false;
            }
            count++;
            skipWhitespace();
            if (pos == end) {
                return false;
            }
            byte b = in[pos++];
            if (b == ']') {
                return true;
            }
            if (b != ',') {
                return false;
            }
            skipWhitespace();
        }
    }

    private boolean store(DataType type, ElementBuffer out, boolean keep) {
        switch (type) {
            case FP32 -> {
                // An integer is converted from its long value, as Jackson does (so -0 is +0.0 here).
                float value = !exact ? FastFloats.NOT_HANDLED
                        : integer ? (float) integerValue()
                        : FastFloats.fromDecimal(digits, exponent, negative);
                if (Float.isNaN(value)) {
                    value = NumberInput.parseFloat(text(), 0, pos - numberStart, true);
                }
                if (keep) {
                    out.putFloat(value);
                }
            }
            case FP64, FP16, BF16 -> {
                // An integer is converted from its long value, as Jackson does (so -0 is +0.0 here).
                double value = !exact ? Double.NaN
                        : integer ? (double) integerValue()
                        : FastFloats.doubleFromDecimal(digits, exponent, negative);
                if (Double.isNaN(value)) {
                    value = NumberInput.parseDouble(text(), 0, pos - numberStart, true);
                }
                if (keep) {
                    out.putFromDouble(type, value);
                }
            }
            default -> {
                // Integers: only plain integers within the type's range; anything else is the general
                // reader's to refuse with its message.
                if (!integer || !exact) {
                    return false;
                }
                long value = integerValue();
                if (value < type.minInteger() || value > type.maxInteger()) {
                    return false;
                }
                if (keep) {
                    out.putInteger(type, value);
                }
            }
        }
        return true;
    }

    /**
     * Scans one number in JSON's grammar: {@code -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?}.
     *
     * @return false when the text there is not one
     */
    private boolean number() {
        numberStart = pos;
        negative = false;
        digits = 0;
        exponent = 0;
        integer = true;
        int significant = 0;
        if (pos < end && in[pos] == '-') {
            negative = true;
            pos++;
        }
        if (pos == end) {
            return false;
        }
        int d = in[pos] - '0';
        if (d == 0) {
            pos++;
            if (pos < end && isDigit(in[pos])) {
                return false; // leading zeros are not JSON
            }
        } else if (d > 0 && d <= 9) {
            for (; pos < end && isDigit(in[pos]); pos++) {
                if (significant < MAX_LONG_DIGITS) {
                    digits = digits * 10 + (in[pos] - '0');
                } else {
                    exponent++; // a dropped digit; the value goes to the exact parser anyway
                }
                significant++;
            }
        } else {
            return false;
        }
        if (pos < end && in[pos] == '.') {
            integer = false;
            pos++;
            int first = pos;
            for (; pos < end && isDigit(in[pos]); pos++) {
                int digit = in[pos] - '0';
                if (digits == 0 && digit == 0) {
                    exponent--; // leading zeros of the fraction only move the point
                } else if (significant < MAX_LONG_DIGITS) {
                    digits = digits * 10 + digit;
                    exponent--;
                    significant++;
                } else {
                    significant++;
                }
            }
            if (pos == first) {
                return false;
            }
        }
        if (pos < end && (in[pos] == 'e' || in[pos] == 'E')) {
            integer = false;
            pos++;
            boolean negativeExponent = false;
            if (pos < end && (in[pos] == '-' || in[pos] == '+')) {
                negativeExponent = in[pos] == '-';
                pos++;
            }
            int first = pos;
            int e = 0;
            for (; pos < end && isDigit(in[pos]); pos++) {
                if (e < 100_000) {
                    e = e * 10 + (in[pos] - '0');
                }
            }
            if (pos == first) {
                return false;
            }
            exponent += negativeExponent ? -e : e;
        }
        exact = significant <= MAX_LONG_DIGITS;
        return pos - numberStart <= MAX_NUMBER_LENGTH;
    }

    /** The current number as an integer; valid when it is {@link #integer} and {@link #exact}. */
    private long integerValue() {
        return negative ? -digits : digits;
    }

    /** The current number's text, for the exact parser. */
    private char[] text() {
        int length = pos - numberStart;
        if (scratch == null || scratch.length < length) {
            scratch = new char[Math.max(32, length)];
        }
        for (int i = 0; i < length; i++) {
            scratch[i] = (char) in[numberStart + i];
        }
        return scratch;
    }

    private static boolean isDigit(byte b) {
        return b >= '0' && b <= '9';
    }

    /** JSON's whitespace, counting line breaks as Jackson does (CR LF is one, a lone CR is one). */
    private void skipWhitespace() {
        while (pos < end) {
            byte b = in[pos];
            if (b == ' ' || b == '\t') {
                pos++;
            } else if (b == '\n') {
                pos++;
                newline();
            } else if (b == '\r') {
                pos++;
                if (pos < end && in[pos] == '\n') {
                    pos++;
                }
                newline();
            } else {
                return;
            }
        }
    }

    private void newline() {
        newlines++;
        lineStart = pos;
    }
}
