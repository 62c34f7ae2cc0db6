package dev.torchlight.server.http.json;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.torchlight.api.DataType;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Shapes;
import dev.torchlight.api.Tensor;
import java.io.IOException;
import java.util.Arrays;

/**
 * Decodes a JSON array of tensor elements, flat or nested, straight into a little-endian buffer
 * of the given datatype: no boxed values, no tree. The nesting must be rectangular; its shape is
 * the tensor's shape unless an expected shape is given.
 *
 * <p>Accepted elements: BOOL takes {@code true}/{@code false} only; integer types take JSON
 * integers within the type's range; floating-point types take any JSON number, {@code NaN},
 * {@code Infinity}, {@code -Infinity} (bare or as strings), rounded to nearest-even for FP32,
 * FP16 and BF16. Every error is a {@link ServingException.InvalidInput} naming the tensor.
 */
public final class JsonTensorReader {
    /** Deepest nesting accepted (PyTorch's own limit on dimensions is 64; models use a handful). */
    public static final int MAX_RANK = 32;
    private static final int INITIAL_RANK = 4;

    private final JsonParser parser;
    private final String name;
    private final DataType type;
    private final long expectedCount;
    private final ElementBuffer out;
    private long count;

    private JsonTensorReader(JsonParser parser, String name, DataType type, long expectedCount, long initialElements) {
        this.parser = parser;
        this.name = name;
        this.type = type;
        this.expectedCount = expectedCount;
        this.out = new ElementBuffer(initialElements * type.byteSize());
    }

    /**
     * Reads the value at the parser's current token (an array, or for rank 0 a single element).
     *
     * @param name the tensor's name, for the tensor and for error messages
     * @param expectedShape the shape the data must have, or null to take the shape from the nesting;
     *     with a shape, data may be flat (one array of all elements) or nested exactly as the shape
     * @param maxElements an upper bound on the elements the input can hold (e.g. from its size in bytes),
     *     so an absurd declared shape does not allocate before the data is seen
     * @return the tensor, positioned after the value's last token
     */
    public static Tensor read(JsonParser parser, String name, DataType type, long[] expectedShape, long maxElements)
            throws IOException {
        long expected = expectedShape == null ? -1 : elementCount(name, expectedShape);
        long initial = expected >= 0 ? Math.min(expected, maxElements) : Math.min(maxElements, 4096);
        JsonTensorReader reader = new JsonTensorReader(parser, name, type, expected, initial);
        long[] nested = reader.readValue();
        long[] shape = nested;
        if (expectedShape != null) {
            if (nested.length > 1 && !Arrays.equals(nested, expectedShape)) {
                throw reader.invalid("nested data has shape " + Shapes.format(nested) + " but the declared shape is "
                        + Shapes.format(expectedShape) + " (nest exactly as the shape, or send a flat list)");
            }
            if (reader.count != expected) {
                throw reader.invalid("shape " + Shapes.format(expectedShape) + " needs " + expected
                        + " elements, data has " + reader.count);
            }
            shape = expectedShape;
        }
        return new Tensor(name, type, shape, reader.out.finish());
    }

    private static long elementCount(String name, long[] shape) {
        try {
            return Shapes.elementCount(shape);
        } catch (ArithmeticException | IllegalArgumentException e) {
            throw new ServingException.InvalidInput(
                    "input '" + name + "': shape " + Shapes.format(shape) + " is not a valid tensor shape");
        }
    }

    /** Parses the value; returns the nested shape. */
    private long[] readValue() throws IOException {
        JsonToken token = parser.currentToken();
        if (token == null) {
            throw invalid("no data");
        }
        if (token != JsonToken.START_ARRAY) {
            element(token);
            return new long[0];
        }
        // Room for the usual ranks; deeper nesting grows them, up to MAX_RANK.
        long[] dims = new long[INITIAL_RANK];
        long[] counts = new long[INITIAL_RANK];
        Arrays.fill(dims, -1);
        int depth = 1; // arrays open
        int deepest = 1;
        int leafDepth = -1; // depth at which elements sit, once seen
        while (depth > 0) {
            // Innermost lists of plain numbers (all of them, in the usual data) go in one pass, as if
            // their elements and closing bracket had been read one token at a time below.
            long flat = readFlatNumbers();
            if (flat > 0) {
                leafDepth = leafDepth(leafDepth, deepest, depth);
                counts[depth - 1] += flat;
                token = JsonToken.END_ARRAY;
            } else {
                token = parser.nextToken();
            }
            if (token == JsonToken.START_ARRAY) {
                if (leafDepth != -1 && depth >= leafDepth) {
                    throw ragged();
                }
                if (depth == MAX_RANK) {
                    throw invalid("data is nested deeper than " + MAX_RANK + " levels");
                }
                if (depth == dims.length) {
                    int rank = Math.min(MAX_RANK, 2 * dims.length);
                    counts = Arrays.copyOf(counts, rank);
                    dims = Arrays.copyOf(dims, rank);
                    Arrays.fill(dims, depth, rank, -1);
                }
                counts[depth - 1]++;
                counts[depth] = 0;
                depth++;
                deepest = Math.max(deepest, depth);
            } else if (token == JsonToken.END_ARRAY) {
                int level = depth - 1;
                if (dims[level] == -1) {
                    dims[level] = counts[level];
                } else if (dims[level] != counts[level]) {
                    throw ragged();
                }
                depth--;
            } else if (token == null) {
                throw invalid("data ends early");
            } else {
                leafDepth = leafDepth(leafDepth, deepest, depth);
                counts[depth - 1]++;
                element(token);
            }
        }
        return Arrays.copyOf(dims, leafDepth != -1 ? leafDepth : deepest);
    }

    /**
     * The depth at which elements sit, now that some sit at {@code depth}: every element must sit
     * at the same depth, and no earlier (empty) list may have gone deeper.
     *
     * @param known the depth seen before, or -1
     */
    private int leafDepth(int known, int deepest, int depth) {
        if (known == -1 ? deepest > depth : known != depth) {
            throw ragged();
        }
        return depth;
    }

    /**
     * At the start of a list: its elements in one pass when it is a non-empty list of plain numbers
     * and the parser can ({@link TensorJsonParser}), leaving the parser on its end.
     *
     * @return the elements read, or 0 when nothing was read
     */
    private long readFlatNumbers() {
        if (!(parser instanceof TensorJsonParser fast)) {
            return 0;
        }
        long storeLimit = expectedCount < 0 ? Long.MAX_VALUE : Math.max(0, expectedCount - count);
        long elements = fast.readFlatNumbers(type, out, storeLimit);
        if (elements <= 0) {
            return 0;
        }
        count += elements;
        return elements;
    }

    private ServingException.InvalidInput ragged() {
        return invalid("nested data is not rectangular: every list at one depth must have the same length, "
                + "and numbers must all sit at the same depth");
    }

    /** Decodes one element into the buffer; past the expected count it is only checked and counted. */
    private void element(JsonToken token) throws IOException {
        long index = count++;
        boolean store = expectedCount < 0 || index < expectedCount;
        switch (type) {
            case BOOL -> {
                byte value = switch (token) {
                    case VALUE_TRUE -> 1;
                    case VALUE_FALSE -> 0;
                    default -> throw wrongType(index, token, "true or false");
                };
                if (store) {
                    out.putByte(value);
                }
            }
            case FP32 -> {
                float value = token == JsonToken.VALUE_NUMBER_INT || token == JsonToken.VALUE_NUMBER_FLOAT
                        ? parser.getFloatValue()
                        : (float) nonFinite(index, token);
                if (store) {
                    out.putFloat(value);
                }
            }
            case FP64, FP16, BF16 -> {
                double value = token == JsonToken.VALUE_NUMBER_INT || token == JsonToken.VALUE_NUMBER_FLOAT
                        ? parser.getDoubleValue()
                        : nonFinite(index, token);
                if (store) {
                    out.putFromDouble(type, value);
                }
            }
            case UINT8, INT8, INT16, INT32, INT64 -> {
                long value = integer(index, token);
                if (store) {
                    out.putInteger(type, value);
                }
            }
        }
    }

    /** The strings (or, with Jackson's bare literals already handled as numbers) naming non-finite values. */
    private double nonFinite(long index, JsonToken token) throws IOException {
        if (token == JsonToken.VALUE_STRING) {
            switch (parser.getText()) {
                case "NaN":
                    return Double.NaN;
                case "Infinity":
                case "+Infinity":
                    return Double.POSITIVE_INFINITY;
                case "-Infinity":
                    return Double.NEGATIVE_INFINITY;
                default:
                    break;
            }
        }
        throw wrongType(index, token, "a number");
    }

    private long integer(long index, JsonToken token) throws IOException {
        if (token != JsonToken.VALUE_NUMBER_INT) {
            throw wrongType(index, token, "an integer");
        }
        long min = type.minInteger();
        long max = type.maxInteger();
        if (parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
            throw outOfRange(index, parser.getText(), min, max);
        }
        long value = parser.getLongValue();
        if (value < min || value > max) {
            throw outOfRange(index, Long.toString(value), min, max);
        }
        return value;
    }

    private ServingException.InvalidInput outOfRange(long index, String value, long min, long max) {
        return invalid("element " + index + " is " + value + ", out of range for " + type
                + " [" + min + ", " + max + "]");
    }

    private ServingException.InvalidInput wrongType(long index, JsonToken token, String expected) throws IOException {
        return invalid("element " + index + " is " + describe(token) + ", expected " + expected + " for " + type);
    }

    private String describe(JsonToken token) throws IOException {
        return switch (token) {
            case VALUE_STRING -> "the string \"" + abbreviate(parser.getText()) + "\"";
            case VALUE_NULL -> "null";
            case START_OBJECT -> "an object";
            case VALUE_TRUE, VALUE_FALSE, VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> abbreviate(parser.getText());
            default -> token.asString() != null ? token.asString() : token.name();
        };
    }

    private static String abbreviate(String text) {
        return text.length() <= 40 ? text : text.substring(0, 37) + "...";
    }

    private ServingException.InvalidInput invalid(String message) {
        return new ServingException.InvalidInput("input '" + name + "': " + message);
    }
}
