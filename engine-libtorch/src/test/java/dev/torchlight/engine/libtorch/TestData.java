package dev.torchlight.engine.libtorch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.torchlight.api.DataType;
import dev.torchlight.api.Shapes;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.ModelConfigParser;
import dev.torchlight.repository.ModelSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/** The shared fixtures in {@code testdata/}: models, their configs and golden tensors. */
final class TestData {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TestData() {}

    /** The repository root: the first directory upwards from here that holds {@code testdata/}. */
    static Path root() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("testdata"))) {
                return dir;
            }
        }
        throw new IllegalStateException("no testdata/ above " + Path.of("").toAbsolutePath());
    }

    /** The model file of a fixture version: its {@code model.pt2} package, else its {@code model.pt}. */
    static Path modelFile(String model, int version) {
        return ModelSource.modelFile(root().resolve("testdata/models").resolve(model).resolve(String.valueOf(version)));
    }

    /** A model file of this module's own fixtures ({@code src/test/resources/fixtures}). */
    static Path fixture(String name) {
        try {
            return Path.of(Objects.requireNonNull(TestData.class.getResource("/fixtures/" + name), name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The golden of {@code testdata/golden/<name>.json}. */
    static Golden golden(String name) {
        return golden(root().resolve("testdata/golden").resolve(name + ".json"));
    }

    static Tensor fp32(String name, long[] shape, float... values) {
        ByteBuffer data = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            data.putFloat(v);
        }
        return new Tensor(name, DataType.FP32, shape, data.flip());
    }

    static float[] floats(Tensor tensor) {
        float[] values = new float[Math.toIntExact(tensor.elementCount())];
        tensor.data().asFloatBuffer().get(values);
        return values;
    }

    /** A fixture model's {@code config.yaml}, through core's parser. */
    static ModelConfig config(String model) {
        Path dir = root().resolve("testdata/models").resolve(model);
        return ModelConfigParser.parse(dir.resolve("config.yaml"), model);
    }

    /** One golden file: a model version, its inputs and PyTorch's outputs for them. */
    record Golden(String model, int version, List<Tensor> inputs, List<Tensor> outputs) {
        @Override
        public String toString() {
            return model + " v" + version;
        }
    }

    static Stream<Golden> goldens() throws IOException {
        try (Stream<Path> files = Files.list(root().resolve("testdata/golden"))) {
            return files.filter(f -> f.toString().endsWith(".json")).sorted()
                    .map(TestData::golden).toList().stream();
        }
    }

    static Golden golden(Path file) {
        try {
            JsonNode doc = JSON.readTree(file.toFile());
            return new Golden(doc.get("model").asText(), doc.get("version").asInt(),
                    tensors(doc.get("inputs")), tensors(doc.get("outputs")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<Tensor> tensors(JsonNode list) {
        List<Tensor> tensors = new ArrayList<>();
        for (JsonNode node : list) {
            DataType type = DataType.parse(node.get("datatype").asText());
            long[] shape = new long[node.get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = node.get("shape").get(i).asLong();
            }
            ByteBuffer data = ByteBuffer.allocate(Math.toIntExact(Shapes.elementCount(shape))
                    * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
            for (JsonNode value : node.get("data")) {
                put(data, type, value);
            }
            tensors.add(new Tensor(node.get("name").asText(), type, shape, data.flip()));
        }
        return tensors;
    }

    private static void put(ByteBuffer data, DataType type, JsonNode value) {
        switch (type) {
            case BOOL -> data.put((byte) (value.asBoolean() ? 1 : 0));
            case UINT8, INT8 -> data.put((byte) value.asInt());
            case INT16 -> data.putShort((short) value.asInt());
            case INT32 -> data.putInt(value.asInt());
            case INT64 -> data.putLong(value.asLong());
            case FP16 -> data.putShort(Float.floatToFloat16((float) value.asDouble()));
            // The goldens hold BF16 values exactly, so truncating the float is exact too.
            case BF16 -> data.putShort((short) (Float.floatToRawIntBits((float) value.asDouble()) >>> 16));
            case FP32 -> data.putFloat((float) value.asDouble());
            case FP64 -> data.putDouble(value.asDouble());
        }
    }

    /** Element {@code i} widened to a double. */
    static double element(Tensor tensor, int i) {
        ByteBuffer data = tensor.data();
        return switch (tensor.dataType()) {
            case BOOL -> data.get(i);
            case UINT8 -> Byte.toUnsignedInt(data.get(i));
            case INT8 -> data.get(i);
            case INT16 -> data.getShort(i * 2);
            case INT32 -> data.getInt(i * 4);
            case INT64 -> data.getLong(i * 8);
            case FP16 -> Float.float16ToFloat(data.getShort(i * 2));
            case BF16 -> Float.intBitsToFloat(data.getShort(i * 2) << 16);
            case FP32 -> data.getFloat(i * 4);
            case FP64 -> data.getDouble(i * 8);
        };
    }

    /**
     * Asserts name, datatype, shape and every element: integers and bools exactly, floats within
     * 1e-5 (relative above 1), FP16/BF16 within their precision.
     */
    static void assertMatches(Tensor actual, Tensor expected) {
        assertThat(actual.name()).isEqualTo(expected.name());
        assertThat(actual.dataType()).as(expected.name()).isEqualTo(expected.dataType());
        assertThat(actual.shape()).as(expected.name()).isEqualTo(expected.shape());
        double tolerance = switch (expected.dataType()) {
            case FP16 -> 1e-3;
            case BF16 -> 1e-2;
            case FP32, FP64 -> 1e-5;
            default -> 0;
        };
        for (int i = 0; i < expected.elementCount(); i++) {
            double want = element(expected, i);
            double got = element(actual, i);
            if (Math.abs(got - want) > tolerance * Math.max(1, Math.abs(want))) {
                fail("%s[%d]: expected %s, got %s (tolerance %s)",
                        expected.name(), i, want, got, tolerance);
            }
        }
    }

    /**
     * Name, declared datatype and shape exactly; every floating-point element within
     * {@code tolerance} times the largest magnitude among the expected elements (at least 1), every
     * other element exactly.
     */
    static void assertClose(Tensor actual, Tensor expected, double relativeTolerance) {
        double tolerance = expected.dataType().isFloatingPoint() ? relativeTolerance : 0;
        assertThat(actual.name()).isEqualTo(expected.name());
        assertThat(actual.dataType()).as(expected.name()).isEqualTo(expected.dataType());
        assertThat(actual.shape()).as(expected.name()).isEqualTo(expected.shape());
        double scale = 1;
        for (int i = 0; i < expected.elementCount(); i++) {
            scale = Math.max(scale, Math.abs(element(expected, i)));
        }
        for (int i = 0; i < expected.elementCount(); i++) {
            double want = element(expected, i);
            double got = element(actual, i);
            assertThat(Math.abs(got - want)).as("%s[%d]: expected %s, got %s", expected.name(), i, want, got)
                    .isLessThanOrEqualTo(tolerance * scale);
        }
    }
}
