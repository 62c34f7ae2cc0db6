package dev.torchlight.server.http.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonParser;
import dev.torchlight.api.DataType;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class JsonTensorReaderTest {

    static Tensor read(String json, DataType type, long... expectedShape) throws IOException {
        return readShape(json, type, expectedShape);
    }

    static Tensor readNested(String json, DataType type) throws IOException {
        return readShape(json, type, null);
    }

    private static Tensor readShape(String json, DataType type, long[] expectedShape) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        try (JsonParser parser = Json.FACTORY.createParser(bytes)) {
            parser.nextToken();
            Tensor tensor = JsonTensorReader.read(parser, "x", type, expectedShape, bytes.length / 2 + 1);
            assertThat(parser.nextToken()).as("parser stops after the value").isNull();
            return tensor;
        }
    }

    @Test
    void bool() throws IOException {
        Tensor t = read("[true, false, true]", DataType.BOOL, 3);
        assertThat(bytes(t)).containsExactly(1, 0, 1);
        assertThatThrownBy(() -> read("[true, 1]", DataType.BOOL, 2))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessage("input 'x': element 1 is 1, expected true or false for BOOL");
    }

    @Test
    void uint8() throws IOException {
        assertThat(bytes(read("[0, 1, 255]", DataType.UINT8, 3))).containsExactly(0, 1, (byte) 255);
    }

    @Test
    void int8() throws IOException {
        assertThat(bytes(read("[-128, 0, 127]", DataType.INT8, 3))).containsExactly(-128, 0, 127);
    }

    @Test
    void int16() throws IOException {
        ByteBuffer b = read("[-32768, 1, 32767]", DataType.INT16, 3).data();
        assertThat(new short[] {b.getShort(), b.getShort(), b.getShort()}).containsExactly(Short.MIN_VALUE, 1, Short.MAX_VALUE);
    }

    @Test
    void int32() throws IOException {
        ByteBuffer b = read("[-2147483648, 7, 2147483647]", DataType.INT32, 3).data();
        assertThat(new int[] {b.getInt(), b.getInt(), b.getInt()}).containsExactly(Integer.MIN_VALUE, 7, Integer.MAX_VALUE);
    }

    @Test
    void int64() throws IOException {
        ByteBuffer b = read("[-9223372036854775808, 9223372036854775807]", DataType.INT64, 2).data();
        assertThat(new long[] {b.getLong(), b.getLong()}).containsExactly(Long.MIN_VALUE, Long.MAX_VALUE);
    }

    @Test
    void fp32RoundsDecimalDirectlyToFloat() throws IOException {
        ByteBuffer b = read("[0.1, -2, 1e-46, 3.4028235e38, 16777217]", DataType.FP32, 5).data();
        assertThat(new float[] {b.getFloat(), b.getFloat(), b.getFloat(), b.getFloat(), b.getFloat()})
                .containsExactly(0.1f, -2f, 0f, Float.MAX_VALUE, 16777216f);
    }

    @Test
    void fp64() throws IOException {
        ByteBuffer b = read("[0.1, -1e308, 5e-324]", DataType.FP64, 3).data();
        assertThat(new double[] {b.getDouble(), b.getDouble(), b.getDouble()}).containsExactly(0.1, -1e308, Double.MIN_VALUE);
    }

    @Test
    void fp16RoundsToNearestEven() throws IOException {
        // 1 + 2^-11 is a tie (to 1.0); 1.00048828125000001 parses to the same double; 1.0005 rounds up.
        ByteBuffer b = read("[1, 0.1, 1.00048828125, 1.0005, 65520, -65504, 1e-8]", DataType.FP16, 7).data();
        short[] h = new short[7];
        for (int i = 0; i < h.length; i++) {
            h[i] = b.getShort();
        }
        assertThat(h).containsExactly((short) 0x3C00, (short) 0x2E66, (short) 0x3C00, (short) 0x3C01, (short) 0x7C00,
                (short) 0xFBFF, (short) 0x0000);
    }

    @Test
    void bf16RoundsToNearestEven() throws IOException {
        ByteBuffer b = read("[1, 3.14159, 1.00390625, 1.01171875, -0.0]", DataType.BF16, 5).data();
        short[] h = new short[5];
        for (int i = 0; i < h.length; i++) {
            h[i] = b.getShort();
        }
        // 3.14159 -> 0x4049 (3.140625); 1 + 2^-8 ties to 1.0; 1 + 3*2^-8 ties up to 1 + 2^-6.
        assertThat(h).containsExactly((short) 0x3F80, (short) 0x4049, (short) 0x3F80, (short) 0x3F82, (short) 0x8000);
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FP16", "BF16", "FP32", "FP64"})
    void nonFiniteFloatsAsLiteralsOrStrings(DataType type) throws IOException {
        Tensor t = read("[NaN, \"NaN\", Infinity, \"Infinity\", -Infinity, \"-Infinity\"]", type, 6);
        ByteBuffer b = t.data();
        double[] values = new double[6];
        for (int i = 0; i < 6; i++) {
            values[i] = switch (type) {
                case FP16 -> Float.float16ToFloat(b.getShort());
                case BF16 -> HalfFloats.fromBFloat16(b.getShort());
                case FP32 -> b.getFloat();
                default -> b.getDouble();
            };
        }
        assertThat(values[0]).isNaN();
        assertThat(values[1]).isNaN();
        assertThat(values).endsWith(Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
                Double.NEGATIVE_INFINITY);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "UINT8 | 256   | element 0 is 256, out of range for UINT8 [0, 255]",
        "UINT8 | -1    | element 0 is -1, out of range for UINT8 [0, 255]",
        "INT8  | 128   | element 0 is 128, out of range for INT8 [-128, 127]",
        "INT8  | -129  | element 0 is -129, out of range for INT8 [-128, 127]",
        "INT16 | 32768 | element 0 is 32768, out of range for INT16 [-32768, 32767]",
        "INT32 | 2147483648 | element 0 is 2147483648, out of range for INT32 [-2147483648, 2147483647]",
        "INT64 | 9223372036854775808 | element 0 is 9223372036854775808, out of range for INT64"
                + " [-9223372036854775808, 9223372036854775807]",
        "INT64 | -9223372036854775809 | element 0 is -9223372036854775809, out of range for INT64"
                + " [-9223372036854775808, 9223372036854775807]",
    })
    void integersOutOfRange(DataType type, String value, String message) {
        assertThatThrownBy(() -> read("[" + value + "]", type, 1))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessage("input 'x': " + message);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "INT32 | 1.5     | element 1 is 1.5, expected an integer for INT32",
        "INT64 | \"7\"   | element 1 is the string \"7\", expected an integer for INT64",
        "UINT8 | true    | element 1 is true, expected an integer for UINT8",
        "INT8  | NaN     | element 1 is NaN, expected an integer for INT8",
        "FP32  | \"abc\" | element 1 is the string \"abc\", expected a number for FP32",
        "FP64  | null    | element 1 is null, expected a number for FP64",
        "FP16  | {}      | element 1 is an object, expected a number for FP16",
        "BF16  | false   | element 1 is false, expected a number for BF16",
        "BOOL  | \"true\" | element 1 is the string \"true\", expected true or false for BOOL",
        "BOOL  | 0       | element 1 is 0, expected true or false for BOOL",
    })
    void wrongElementTypes(DataType type, String value, String message) {
        assertThatThrownBy(() -> read("[" + zero(type) + ", " + value + "]", type, 2))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessage("input 'x': " + message);
    }

    private static String zero(DataType type) {
        return type == DataType.BOOL ? "false" : "0";
    }

    @ParameterizedTest
    @EnumSource(DataType.class)
    void everyTypeNestedTakesItsShapeFromTheNesting(DataType type) throws IOException {
        String e = zero(type);
        String one = type == DataType.BOOL ? "true" : "1";
        Tensor t = readNested("[[[" + one + ", " + e + ", " + one + "], [" + e + ", " + e + ", " + one + "]]]", type);
        assertThat(t.shape()).containsExactly(1, 2, 3);
        assertThat(t.dataType()).isEqualTo(type);
        assertThat(t.data().remaining()).isEqualTo(6 * type.byteSize());
    }

    @Test
    void nestedDataMatchingTheDeclaredShape() throws IOException {
        Tensor t = read("[[1, 2, 3], [4, 5, 6]]", DataType.INT32, 2, 3);
        assertThat(t.shape()).containsExactly(2, 3);
        ByteBuffer b = t.data();
        assertThat(b.getInt(0)).isEqualTo(1);
        assertThat(b.getInt(20)).isEqualTo(6);
    }

    @Test
    void flatDataForAMultiDimensionalShape() throws IOException {
        Tensor t = read("[1, 2, 3, 4, 5, 6]", DataType.INT32, 2, 3);
        assertThat(t.shape()).containsExactly(2, 3);
        assertThat(t.data().getInt(20)).isEqualTo(6);
    }

    @Test
    void nestedDataNotMatchingTheDeclaredShape() {
        assertThatThrownBy(() -> read("[[1, 2], [3, 4], [5, 6]]", DataType.INT32, 2, 3))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessageContaining("input 'x': nested data has shape [3, 2] but the declared shape is [2, 3]");
    }

    @Test
    void elementCountMustMatchTheShape() {
        assertThatThrownBy(() -> read("[1, 2, 3, 4, 5]", DataType.FP32, 2, 3))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessage("input 'x': shape [2, 3] needs 6 elements, data has 5");
        assertThatThrownBy(() -> read("[1, 2, 3, 4, 5, 6, 7, 8]", DataType.FP32, 2, 3))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessage("input 'x': shape [2, 3] needs 6 elements, data has 8");
    }

    @Test
    void hugeDeclaredShapeDoesNotAllocateUpFront() {
        assertThatThrownBy(() -> read("[1, 2]", DataType.FP64, 1_000_000_000_000L))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessageContaining("needs 1000000000000 elements, data has 2");
        assertThatThrownBy(() -> read("[1]", DataType.FP64, Long.MAX_VALUE, 4))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessageContaining("is not a valid tensor shape");
    }

    @Test
    void raggedNestingIsRejected() {
        for (String json : new String[] {"[[1, 2], [3]]", "[[1, 2], 3]", "[1, [2]]", "[[], [1]]", "[[[]], [1]]",
                "[[1], [[2]]]"}) {
            assertThatThrownBy(() -> readNested(json, DataType.INT64))
                    .as(json)
                    .isInstanceOf(ServingException.InvalidInput.class)
                    .hasMessageContaining("not rectangular");
        }
    }

    @Test
    void emptyArraysHaveZeroSizedShapes() throws IOException {
        assertThat(readNested("[]", DataType.FP32).shape()).containsExactly(0);
        assertThat(readNested("[[], []]", DataType.FP32).shape()).containsExactly(2, 0);
        assertThat(read("[]", DataType.FP32, 0, 3).elementCount()).isZero();
    }

    @Test
    void bareScalarIsRankZero() throws IOException {
        Tensor t = readNested("2.5", DataType.FP64);
        assertThat(t.shape()).isEmpty();
        assertThat(t.data().getDouble()).isEqualTo(2.5);
    }

    @Test
    void deepNestingGivesItsWholeShape() throws IOException {
        // Rank 6: past the room the reader starts with for the usual ranks.
        Tensor t = readNested("[[[[[[1, 2, 3]]]]], [[[[[4, 5, 6]]]]]]", DataType.INT32);
        assertThat(t.shape()).containsExactly(2, 1, 1, 1, 1, 3);
        assertThat(t.data().getInt(5 * 4)).isEqualTo(6);
        assertThatThrownBy(() -> readNested("[[[[[[1, 2, 3]]]]], [[[[[4, 5]]]]]]", DataType.INT32))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessageContaining("not rectangular");
    }

    @Test
    void nestingDeeperThanTheLimit() {
        String json = "[".repeat(JsonTensorReader.MAX_RANK + 1) + "1" + "]".repeat(JsonTensorReader.MAX_RANK + 1);
        assertThatThrownBy(() -> readNested(json, DataType.FP32))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessageContaining("nested deeper than 32");
    }

    @Test
    void bufferGrowsPastItsInitialSize() throws IOException {
        StringBuilder json = new StringBuilder("[");
        for (int i = 0; i < 10_000; i++) {
            json.append(i == 0 ? "" : ",").append(i);
        }
        Tensor t = readNested(json.append(']').toString(), DataType.INT64);
        assertThat(t.shape()).containsExactly(10_000);
        assertThat(t.data().getLong(9_999 * 8)).isEqualTo(9_999);
    }

    private static byte[] bytes(Tensor t) {
        ByteBuffer b = t.data();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }
}
