package dev.torchlight.server.http.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import dev.torchlight.api.DataType;
import dev.torchlight.api.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class JsonTensorWriterTest {

    private interface Write {
        void write(JsonGenerator g) throws IOException;
    }

    private static String json(Write write) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = Json.FACTORY.createGenerator(out)) {
            write.write(g);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static Tensor tensor(DataType type, long[] shape, ByteBuffer data) {
        return new Tensor("t", type, shape, data.flip());
    }

    private static ByteBuffer buffer(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void bool() throws IOException {
        ByteBuffer b = buffer(3).put((byte) 1).put((byte) 0).put((byte) 1);
        assertThat(json(g -> JsonTensorWriter.writeFlat(g, tensor(DataType.BOOL, new long[] {3}, b))))
                .isEqualTo("[true,false,true]");
    }

    @Test
    void uint8IsUnsigned() throws IOException {
        ByteBuffer b = buffer(3).put((byte) 0).put((byte) 128).put((byte) 255);
        assertThat(json(g -> JsonTensorWriter.writeFlat(g, tensor(DataType.UINT8, new long[] {3}, b))))
                .isEqualTo("[0,128,255]");
    }

    @Test
    void int8() throws IOException {
        ByteBuffer b = buffer(2).put((byte) -128).put((byte) 127);
        assertThat(json(g -> JsonTensorWriter.writeFlat(g, tensor(DataType.INT8, new long[] {2}, b))))
                .isEqualTo("[-128,127]");
    }

    @Test
    void int16() throws IOException {
        ByteBuffer b = buffer(4).putShort(Short.MIN_VALUE).putShort((short) 300);
        assertThat(json(g -> JsonTensorWriter.writeFlat(g, tensor(DataType.INT16, new long[] {2}, b))))
                .isEqualTo("[-32768,300]");
    }

    @Test
    void int32() throws IOException {
        ByteBuffer b = buffer(8).putInt(Integer.MIN_VALUE).putInt(Integer.MAX_VALUE);
        assertThat(json(g -> JsonTensorWriter.writeFlat(g, tensor(DataType.INT32, new long[] {2}, b))))
                .isEqualTo("[-2147483648,2147483647]");
    }

    @Test
    void int64() throws IOException {
        ByteBuffer b = buffer(16).putLong(Long.MIN_VALUE).putLong(Long.MAX_VALUE);
        assertThat(json(g -> JsonTensorWriter.writeFlat(g, tensor(DataType.INT64, new long[] {2}, b))))
                .isEqualTo("[-9223372036854775808,9223372036854775807]");
    }

    @Test
    void fp16AsTheFloatItStandsFor() throws IOException {
        ByteBuffer b = buffer(8).putShort((short) 0x3C00).putShort((short) 0x2E66).putShort((short) 0x7BFF)
                .putShort((short) 0x0001);
        assertThat(json(g -> JsonTensorWriter.writeFlat(g, tensor(DataType.FP16, new long[] {4}, b))))
                .isEqualTo("[1.0,0.099975586,65504.0,5.9604645E-8]");
    }

    @Test
    void bf16AsTheFloatItStandsFor() throws IOException {
        ByteBuffer b = buffer(4).putShort((short) 0x4049).putShort((short) 0xBF80);
        assertThat(json(g -> JsonTensorWriter.writeFlat(g, tensor(DataType.BF16, new long[] {2}, b))))
                .isEqualTo("[3.140625,-1.0]");
    }

    @Test
    void fp32ShortestForm() throws IOException {
        ByteBuffer b = buffer(8).putFloat(0.1f).putFloat(-3f);
        assertThat(json(g -> JsonTensorWriter.writeFlat(g, tensor(DataType.FP32, new long[] {2}, b))))
                .isEqualTo("[0.1,-3.0]");
    }

    @Test
    void fp64() throws IOException {
        ByteBuffer b = buffer(16).putDouble(0.1).putDouble(1e300);
        assertThat(json(g -> JsonTensorWriter.writeFlat(g, tensor(DataType.FP64, new long[] {2}, b))))
                .isEqualTo("[0.1,1.0E300]");
    }

    @Test
    void nonFiniteFloatsAsStrings() throws IOException {
        ByteBuffer b = buffer(12).putFloat(Float.NaN).putFloat(Float.POSITIVE_INFINITY).putFloat(Float.NEGATIVE_INFINITY);
        assertThat(json(g -> JsonTensorWriter.writeFlat(g, tensor(DataType.FP32, new long[] {3}, b))))
                .isEqualTo("[\"NaN\",\"Infinity\",\"-Infinity\"]");
    }

    @Test
    void nestedFollowsTheShape() throws IOException {
        ByteBuffer b = buffer(24);
        for (int i = 1; i <= 6; i++) {
            b.putInt(i);
        }
        Tensor t = tensor(DataType.INT32, new long[] {1, 2, 3}, b);
        assertThat(json(g -> JsonTensorWriter.writeNested(g, t, 0))).isEqualTo("[[[1,2,3],[4,5,6]]]");
        assertThat(json(g -> JsonTensorWriter.writeNested(g, t, 1))).isEqualTo("[[1,2,3],[4,5,6]]");
        assertThatThrownBy(() -> json(g -> JsonTensorWriter.writeNested(g, t, 2)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void nestedScalarAndEmpty() throws IOException {
        Tensor scalar = tensor(DataType.FP64, new long[0], buffer(8).putDouble(2.5));
        assertThat(json(g -> JsonTensorWriter.writeNested(g, scalar, 0))).isEqualTo("2.5");
        Tensor empty = tensor(DataType.FP64, new long[] {2, 0}, buffer(0));
        assertThat(json(g -> JsonTensorWriter.writeNested(g, empty, 0))).isEqualTo("[[],[]]");
    }

    /** Random elements of every type survive write then read bit for bit (NaN payloads aside). */
    @ParameterizedTest
    @EnumSource(DataType.class)
    void roundTripsThroughTheReader(DataType type) throws IOException {
        SplittableRandom random = new SplittableRandom(type.ordinal());
        int n = 2_000;
        ByteBuffer b = buffer(n * type.byteSize());
        for (int i = 0; i < n; i++) {
            switch (type) {
                case BOOL -> b.put((byte) random.nextInt(2));
                case UINT8, INT8 -> b.put((byte) random.nextInt());
                case INT16 -> b.putShort((short) random.nextInt());
                case INT32 -> b.putInt(random.nextInt());
                case INT64 -> b.putLong(random.nextLong());
                case FP16 -> b.putShort(finite16((short) random.nextInt(), true));
                case BF16 -> b.putShort(finite16((short) random.nextInt(), false));
                case FP32 -> b.putFloat(Float.intBitsToFloat(random.nextInt() & 0xBF7FFFFF)); // exponent never all ones
                case FP64 -> b.putDouble(Double.longBitsToDouble(random.nextLong() & 0xBFEFFFFFFFFFFFFFL));
            }
        }
        Tensor original = tensor(type, new long[] {20, 100}, b);
        String text = json(g -> JsonTensorWriter.writeNested(g, original, 0));
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        Tensor back;
        try (JsonParser p = Json.FACTORY.createParser(bytes)) {
            p.nextToken();
            back = JsonTensorReader.read(p, "t", type, null, bytes.length);
        }
        assertThat(back.shape()).containsExactly(20, 100);
        assertThat(back.data()).isEqualTo(original.data());
        String flat = json(g -> JsonTensorWriter.writeFlat(g, original));
        byte[] flatBytes = flat.getBytes(StandardCharsets.UTF_8);
        try (JsonParser p = Json.FACTORY.createParser(flatBytes)) {
            p.nextToken();
            back = JsonTensorReader.read(p, "t", type, new long[] {20, 100}, flatBytes.length);
        }
        assertThat(back.data()).isEqualTo(original.data());
    }

    /** Clears the top exponent bit so the pattern is finite (fp16: 5-bit exponent; bf16: 8-bit). */
    private static short finite16(short bits, boolean fp16) {
        return (short) (bits & (fp16 ? 0xBBFF : 0xBF7F));
    }
}
