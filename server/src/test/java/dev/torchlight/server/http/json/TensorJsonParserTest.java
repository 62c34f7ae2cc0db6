package dev.torchlight.server.http.json;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import dev.torchlight.api.DataType;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The one-pass number arrays of {@link TensorJsonParser} against Jackson's own parser reading the
 * same text token by token: the same tensor (bit for bit), the same error, and afterwards the same
 * tokens at the same locations.
 */
class TensorJsonParserTest {
    /** The same features as {@link Json#FACTORY}, with Jackson's own parser. */
    private static final JsonFactory PLAIN = new JsonFactoryBuilder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
            .build();

    /** What reading {@code {"a": 1, "data": <array>, ...}} gives: the tensor or error, then every later token. */
    private static List<String> transcript(JsonFactory factory, byte[] json, DataType type, long[] shape)
            throws IOException {
        List<String> out = new ArrayList<>();
        try (JsonParser parser = factory.createParser(json, 0, json.length)) {
            JsonToken token;
            while ((token = parser.nextToken()) != null) {
                if (token == JsonToken.START_ARRAY && ("data".equals(parser.currentName())
                        || parser.getParsingContext().getParent().inRoot())) {
                    try {
                        Tensor t = JsonTensorReader.read(parser, "x", type, shape, json.length / 2 + 1);
                        out.add("tensor " + java.util.Arrays.toString(t.shape()) + " " + hex(t.data()));
                    } catch (ServingException.InvalidInput e) {
                        out.add("invalid: " + e.getMessage());
                        return out;
                    }
                    out.add("after " + parser.currentToken() + " " + where(parser.currentTokenLocation())
                            + " / " + where(parser.currentLocation()));
                    continue;
                }
                out.add(token + " " + parser.currentName() + " " + (token.isScalarValue() ? parser.getText() : "")
                        + " " + where(parser.currentTokenLocation()) + " / " + where(parser.currentLocation()));
            }
        } catch (IOException e) {
            out.add("error: " + Json.describe(e));
        }
        return out;
    }

    private static String where(JsonLocation at) {
        return at.getLineNr() + ":" + at.getColumnNr() + "@" + at.getByteOffset();
    }

    private static String hex(ByteBuffer data) {
        StringBuilder sb = new StringBuilder();
        ByteBuffer d = data.duplicate();
        while (d.hasRemaining()) {
            sb.append(String.format(Locale.ROOT, "%02x", d.get()));
        }
        return sb.toString();
    }

    private static void sameAsJackson(String json, DataType type, long... shape) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        long[] expected = shape.length == 0 ? null : shape;
        assertThat(transcript(Json.FACTORY, bytes, type, expected)).as("%s as %s", json, type)
                .isEqualTo(transcript(PLAIN, bytes, type, expected));
    }

    private static String document(String array) {
        return "{\"name\": \"x\",\n  \"data\": " + array + ",\n  \"shape\": [2, 3], \"after\": {\"k\": [true, \"s\"]}}\n";
    }

    @Test
    void theFactoryMakesTheOnePassParser() throws IOException {
        try (JsonParser parser = Json.FACTORY.createParser(new byte[] {'[', '1', ']'})) {
            assertThat(parser).isInstanceOf(TensorJsonParser.class);
        }
    }

    @Test
    void plainNumberArraysTakeTheOnePassWayAndEverythingElseIsLeftAlone() throws IOException {
        assertThat(onePass("[0.5, -1e-3, 7]", DataType.FP32)).isEqualTo(3);
        assertThat(onePass("[ 1 ,\n 2 ]", DataType.INT64)).isEqualTo(2);
        assertThat(onePass("[0.30000000000000004, 1e400]", DataType.FP64)).isEqualTo(2);
        for (String other : List.of("[]", "[[1]]", "[1, NaN]", "[1.5]", "[300]", "[1,]", "[true]")) {
            DataType type = other.equals("[1.5]") || other.equals("[300]") ? DataType.UINT8
                    : other.equals("[true]") ? DataType.BOOL : DataType.FP32;
            assertThat(onePass(other, type)).as(other).isEqualTo(-1);
        }
    }

    /** What {@link TensorJsonParser#readFlatNumbers} answers for {@code array}; checks it left nothing behind when it declined. */
    private static long onePass(String array, DataType type) throws IOException {
        byte[] bytes = array.getBytes(StandardCharsets.UTF_8);
        try (TensorJsonParser parser = (TensorJsonParser) Json.FACTORY.createParser(bytes)) {
            parser.nextToken();
            ElementBuffer out = new ElementBuffer(4);
            long elements = parser.readFlatNumbers(type, out, Long.MAX_VALUE);
            if (elements < 0) {
                assertThat(out.position()).isZero();
                assertThat(parser.currentToken()).isEqualTo(JsonToken.START_ARRAY);
                assertThat(parser.currentLocation().getByteOffset()).isEqualTo(1);
            } else {
                assertThat(parser.currentToken()).isEqualTo(JsonToken.END_ARRAY);
                assertThat(parser.nextToken()).isNull();
            }
            return elements;
        }
    }

    @ParameterizedTest
    @EnumSource(DataType.class)
    void plainArraysDecodeAsJacksonDoesAndTheParserGoesOnAsJacksonWould(DataType type) throws IOException {
        for (String array : List.of("[1, 2, 3]", "[1,2,3]", "[ 0 , -0 , 7 ]", "[\n 1,\n 2\r\n,3\r]", "[0.5, -2.25e-3, 1E2]",
                "[-128, 127, 255]", "[9223372036854775807, -9223372036854775808]", "[1.0]", "[12345678901234567890]",
                "[0.30000000000000004, 1.7976931348623157e308, 4.9e-324]", "[3.4028235677973366e38, 1e-46, 1e400]",
                "[16777217, 0.1, 1e23]", "[]", "[[1, 2], [3, 4]]", "[1, NaN, -Infinity]", "[\"NaN\"]", "[true, false]",
                "[1, 2,]", "[1 2]", "[01]", "[1.]", "[.5]", "[-]", "[1e]", "[+1]", "[1, \"2\"]", "[1, null]", "[1",
                "[1, 2", "[[1, 2, 3], [4, 5, 6]]", "[[[1], [2]], [[3], [4]]]", "[[1, 2], [3]]", "[[1, 2], 3]", "[1, [2]]",
                "[[], [1]]", "[[1], []]", "[[1, NaN], [2, 3]]", "[[1, 2], [3, 4], [5, 6]]", "[[1,\n2],\n[3,\n4]]")) {
            sameAsJackson(document(array), type);
            sameAsJackson(document(array), type, 3);
            sameAsJackson(array, type);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"FP32", "FP64", "FP16", "BF16"})
    void randomFloatsInEveryNotationDecodeBitForBit(String name) throws IOException {
        DataType type = DataType.valueOf(name);
        SplittableRandom random = new SplittableRandom(11);
        for (int round = 0; round < 300; round++) {
            StringBuilder array = new StringBuilder("[");
            int n = 1 + random.nextInt(64);
            for (int i = 0; i < n; i++) {
                if (i > 0) {
                    array.append(random.nextInt(8) == 0 ? " ,\n" : ",");
                }
                array.append(switch (random.nextInt(5)) {
                    case 0 -> Float.toString(Float.intBitsToFloat(random.nextInt()) % 1e6f);
                    case 1 -> Double.toString(random.nextDouble(-1, 1));
                    case 2 -> String.format(Locale.ROOT, "%.6e", random.nextDouble(-1e10, 1e10));
                    case 3 -> Long.toString(random.nextLong(-100_000, 100_000));
                    default -> String.format(Locale.ROOT, "%.9f", random.nextGaussian());
                });
            }
            String json = array.append("]").toString();
            if (json.contains("NaN") || json.contains("Infinity")) {
                continue;
            }
            sameAsJackson(document(json), type);
            sameAsJackson(json, type, n);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"UINT8", "INT8", "INT16", "INT32", "INT64"})
    void randomIntegersAndOutOfRangeOnesMatchJackson(String name) throws IOException {
        DataType type = DataType.valueOf(name);
        SplittableRandom random = new SplittableRandom(5);
        for (int round = 0; round < 200; round++) {
            StringBuilder array = new StringBuilder("[");
            int n = 1 + random.nextInt(16);
            for (int i = 0; i < n; i++) {
                if (i > 0) {
                    array.append(", ");
                }
                long bound = 1L << (1 + random.nextInt(62));
                array.append(random.nextLong(-bound, bound));
            }
            sameAsJackson(document(array.append("]").toString()), type);
        }
    }

    @Test
    void moreElementsThanTheShapeAreCountedNotStored() throws IOException {
        sameAsJackson(document("[1, 2, 3, 4, 5]"), DataType.FP32, 2);
        sameAsJackson(document("[1, 2]"), DataType.FP32, 2, 2);
    }

    @Test
    void aByteOrderMarkIsSkippedAsJacksonSkipsIt() throws IOException {
        byte[] text = "{\"data\": [1.5, 2]}".getBytes(StandardCharsets.UTF_8);
        byte[] withBom = new byte[text.length + 3];
        withBom[0] = (byte) 0xEF;
        withBom[1] = (byte) 0xBB;
        withBom[2] = (byte) 0xBF;
        System.arraycopy(text, 0, withBom, 3, text.length);
        assertThat(transcript(Json.FACTORY, withBom, DataType.FP32, null))
                .isEqualTo(transcript(PLAIN, withBom, DataType.FP32, null))
                .anyMatch(line -> line.startsWith("tensor [2]"));
    }

    @Test
    void otherEncodingsAreLeftToJackson() throws IOException {
        byte[] utf16 = "{\"data\": [1.5, 2]}".getBytes(StandardCharsets.UTF_16BE);
        try (JsonParser parser = Json.FACTORY.createParser(utf16)) {
            assertThat(parser).isNotInstanceOf(TensorJsonParser.class);
        }
        assertThat(transcript(Json.FACTORY, utf16, DataType.FP32, null))
                .isEqualTo(transcript(PLAIN, utf16, DataType.FP32, null));
    }
}
