package dev.torchlight.bench.load;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A recorded stream of inference requests that {@code --replay FILE} sends in order, cycling, in
 * place of generated data: JSON lines, each the body of one Open Inference Protocol v2 request,
 * {@code {"inputs": [{"name", "datatype", "shape", "data"}, ...]}} with {@code data} flat, row-major
 * and the batch dimension in {@code shape} (other fields, such as {@code id}, are ignored; blank
 * lines are skipped). Every line is checked when the file is read, so that a bad one is reported by
 * its number before the run starts.
 */
public final class ReplayFile {
    // Streamed, no tree: a recording holds millions of numbers.
    private static final JsonFactory JSON = JsonFactory.builder().enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
            .build();

    private final Path file;
    private final List<List<InputTensor>> requests;

    private ReplayFile(Path file, List<List<InputTensor>> requests) {
        this.file = file;
        this.requests = List.copyOf(requests);
    }

    /**
     * Reads and checks a recording.
     *
     * @throws LoadBenchException when the file cannot be read, holds no request, or a line is not a
     *     v2 request whose data fits its shape and datatype (the message names the line)
     */
    public static ReplayFile read(Path file) {
        List<List<InputTensor>> requests = new ArrayList<>();
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            for (int number = 1; (line = reader.readLine()) != null; number++) {
                if (line.isBlank()) {
                    continue;
                }
                try {
                    requests.add(request(line));
                } catch (IllegalArgumentException e) {
                    throw new LoadBenchException("--replay " + file + " line " + number + ": " + e.getMessage(), e);
                }
            }
        } catch (IOException e) {
            throw new LoadBenchException("cannot read --replay " + file + ": " + e, e);
        }
        if (requests.isEmpty()) {
            throw new LoadBenchException("--replay " + file + " holds no request (one JSON v2 request body per line)");
        }
        return new ReplayFile(file, requests);
    }

    /** How many requests the recording holds. */
    public int size() {
        return requests.size();
    }

    /** The file it was read from. */
    public Path file() {
        return file;
    }

    /** Request {@code i} (0-based) as recorded. */
    List<InputTensor> request(int i) {
        return requests.get(i);
    }

    /**
     * Checks that every recorded input is one the model declares, with its datatype.
     *
     * @throws LoadBenchException naming the first input that is not
     */
    void check(List<InputSpec> declared, String model) {
        for (InputTensor t : requests.get(0)) {
            InputSpec spec = declared.stream().filter(d -> d.name().equals(t.name())).findFirst().orElseThrow(
                    () -> new LoadBenchException("--replay " + file + ": input '" + t.name() + "' is not an input of model "
                            + model + ", which declares " + declared));
            if (spec.datatype() != t.datatype()) {
                throw new LoadBenchException("--replay " + file + ": input '" + t.name() + "' is " + t.datatype()
                        + ", model " + model + " declares " + spec);
            }
        }
    }

    /**
     * The first {@code rows} rows of the recording, one tensor per input, stacked along the batch
     * dimension in recorded order (cycling when the recording is shorter): the data of a raw-engine
     * batch. Every request must have the same inputs with the same shape past the batch dimension.
     *
     * @throws IllegalArgumentException when the requests cannot be stacked
     */
    public List<Stacked> stack(int rows) {
        if (rows < 1) {
            throw new IllegalArgumentException("rows must be at least 1, got " + rows);
        }
        List<InputTensor> first = requests.get(0);
        List<List<ByteBuffer>> parts = new ArrayList<>();
        first.forEach(t -> parts.add(new ArrayList<>()));
        int taken = 0;
        for (int r = 0; taken < rows; r++) {
            List<InputTensor> request = requests.get(r % requests.size());
            if (request.size() != first.size()) {
                throw new IllegalArgumentException("request " + (r % requests.size() + 1) + " has " + request.size()
                        + " inputs, the first has " + first.size());
            }
            long requestRows = -1;
            for (int i = 0; i < first.size(); i++) {
                InputTensor t = request.get(i);
                InputTensor f = first.get(i);
                if (!t.name().equals(f.name()) || t.datatype() != f.datatype() || t.shape().length == 0
                        || !Arrays.equals(rowShape(t), rowShape(f))) {
                    throw new IllegalArgumentException("request " + (r % requests.size() + 1) + " input " + t
                            + " cannot be stacked with the first request's " + f);
                }
                requestRows = t.shape()[0];
            }
            if (requestRows < 1) {
                throw new IllegalArgumentException("request " + (r % requests.size() + 1) + " has no rows");
            }
            int take = (int) Math.min(requestRows, rows - taken);
            for (int i = 0; i < first.size(); i++) {
                InputTensor t = request.get(i);
                int rowBytes = Math.toIntExact(t.data().remaining() / Math.max(t.shape()[0], 1));
                parts.get(i).add(t.data().limit(take * rowBytes).slice());
            }
            taken += take;
        }
        List<Stacked> stacked = new ArrayList<>();
        for (int i = 0; i < first.size(); i++) {
            InputTensor f = first.get(i);
            long[] shape = f.shape();
            shape[0] = rows;
            ByteBuffer data = ByteBuffer.allocate(parts.get(i).stream().mapToInt(ByteBuffer::remaining).sum())
                    .order(ByteOrder.LITTLE_ENDIAN);
            parts.get(i).forEach(data::put);
            stacked.add(new Stacked(f.name(), f.datatype().name(), shape, data.flip()));
        }
        return stacked;
    }

    /**
     * One input of a stacked batch.
     *
     * @param name input name
     * @param datatype Open Inference Protocol datatype, e.g. {@code FP32}
     * @param shape the batch's shape, rows first
     * @param data the elements, little-endian, row-major
     */
    public record Stacked(String name, String datatype, long[] shape, ByteBuffer data) {}

    private static long[] rowShape(InputTensor t) {
        long[] shape = t.shape();
        return Arrays.copyOfRange(shape, 1, shape.length);
    }

    private static List<InputTensor> request(String line) {
        try (JsonParser parser = JSON.createParser(line)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalArgumentException("expected a v2 request body, a JSON object");
            }
            List<InputTensor> tensors = null;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                if (field.equals("inputs") && value == JsonToken.START_ARRAY) {
                    tensors = new ArrayList<>();
                    while (parser.nextToken() != JsonToken.END_ARRAY) {
                        tensors.add(tensor(parser));
                    }
                } else {
                    parser.skipChildren();
                }
            }
            if (parser.nextToken() != null) {
                throw new IllegalArgumentException("more than one JSON value on the line");
            }
            if (tensors == null || tensors.isEmpty()) {
                throw new IllegalArgumentException("expected a v2 request body with a non-empty \"inputs\" array");
            }
            return tensors;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a parser over a string does no I/O
        }
    }

    /** One input object, the parser at its start; its fields may come in any order. */
    private static InputTensor tensor(JsonParser parser) throws IOException {
        if (parser.currentToken() != JsonToken.START_OBJECT) {
            throw new IllegalArgumentException("an input must be a JSON object");
        }
        String name = null;
        String datatype = null;
        long[] shape = null;
        Elements data = null;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String field = parser.currentName();
            JsonToken value = parser.nextToken();
            switch (field) {
                case "name" -> name = value == JsonToken.VALUE_STRING ? parser.getText() : null;
                case "datatype" -> datatype = value == JsonToken.VALUE_STRING ? parser.getText() : null;
                case "shape" -> shape = value == JsonToken.START_ARRAY ? shape(parser) : null;
                // FP32 elements parsed as floats when the datatype comes first, as make_model.py writes it.
                case "data" -> data = value == JsonToken.START_ARRAY ? Elements.read(parser, "FP32".equals(datatype))
                        : null;
                default -> parser.skipChildren();
            }
        }
        if (name == null || datatype == null || shape == null || data == null) {
            throw new IllegalArgumentException("an input needs \"name\", \"datatype\", \"shape\" and a flat \"data\""
                    + " array" + (name == null ? "" : " (input " + name + ")"));
        }
        Datatype type;
        try {
            type = Datatype.valueOf(datatype);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("input " + name + ": datatype " + datatype
                    + " cannot be replayed; expected one of " + Arrays.toString(Datatype.values()), e);
        }
        long count = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("input " + name + ": shape must list sizes >= 0, got "
                        + Arrays.toString(shape));
            }
            count = Math.multiplyExact(count, d);
        }
        if (count != data.size) {
            throw new IllegalArgumentException("input " + name + ": shape " + Arrays.toString(shape) + " holds " + count
                    + " elements, data has " + data.size + " (data must be flat)");
        }
        ByteBuffer bytes = ByteBuffer.allocate(Math.toIntExact(count * type.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
        for (int e = 0; e < data.size; e++) {
            data.put(bytes, type, e, name);
        }
        return new InputTensor(name, type, shape, bytes.flip());
    }

    private static long[] shape(JsonParser parser) throws IOException {
        long[] dims = new long[8];
        int n = 0;
        while (parser.nextToken() != JsonToken.END_ARRAY) {
            if (parser.currentToken() != JsonToken.VALUE_NUMBER_INT) {
                parser.skipChildren();
                return new long[] {-1};
            }
            dims = n == dims.length ? Arrays.copyOf(dims, n * 2) : dims;
            dims[n++] = parser.getLongValue();
        }
        return Arrays.copyOf(dims, n);
    }

    /**
     * The elements of a {@code data} array as they were written, kept in primitive arrays until the
     * datatype (which may come after the data) says how to store them.
     */
    private static final class Elements {
        private static final byte INTEGER = 0;
        private static final byte DECIMAL = 1;
        private static final byte TRUE = 2;
        private static final byte FALSE = 3;
        private static final byte OTHER = 4;

        int size;
        byte[] kinds = new byte[64];
        long[] longs = new long[64];
        double[] doubles = new double[64];
        String[] texts = new String[64];

        static Elements read(JsonParser parser, boolean floats) throws IOException {
            Elements elements = new Elements();
            JsonToken token;
            while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
                elements.grow();
                int i = elements.size++;
                elements.texts[i] = null;
                switch (token) {
                    case VALUE_NUMBER_INT -> {
                        if (parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                            elements.kinds[i] = OTHER;
                            elements.texts[i] = parser.getText();
                        } else {
                            elements.kinds[i] = INTEGER;
                            elements.longs[i] = parser.getLongValue();
                        }
                    }
                    case VALUE_NUMBER_FLOAT -> {
                        elements.kinds[i] = DECIMAL;
                        elements.doubles[i] = floats ? parser.getFloatValue() : parser.getDoubleValue();
                    }
                    case VALUE_TRUE -> elements.kinds[i] = TRUE;
                    case VALUE_FALSE -> elements.kinds[i] = FALSE;
                    default -> {
                        elements.kinds[i] = OTHER;
                        elements.texts[i] = token == JsonToken.VALUE_STRING ? "\"" + parser.getText() + "\""
                                : token.isStructStart() ? "a nested " + (token == JsonToken.START_ARRAY ? "array" : "object")
                                : parser.getText();
                        parser.skipChildren();
                    }
                }
            }
            return elements;
        }

        private void grow() {
            if (size == kinds.length) {
                kinds = Arrays.copyOf(kinds, size * 2);
                longs = Arrays.copyOf(longs, size * 2);
                doubles = Arrays.copyOf(doubles, size * 2);
                texts = Arrays.copyOf(texts, size * 2);
            }
        }

        private String text(int i) {
            return switch (kinds[i]) {
                case INTEGER -> Long.toString(longs[i]);
                case DECIMAL -> Double.toString(doubles[i]);
                case TRUE -> "true";
                case FALSE -> "false";
                default -> texts[i];
            };
        }

        void put(ByteBuffer bytes, Datatype type, int i, String input) {
            byte kind = kinds[i];
            switch (type) {
                case BOOL -> {
                    if (kind != TRUE && kind != FALSE) {
                        throw element(input, i, text(i), "true or false");
                    }
                    bytes.put((byte) (kind == TRUE ? 1 : 0));
                }
                case FP16, BF16, FP32, FP64 -> {
                    if (kind != INTEGER && kind != DECIMAL) {
                        throw element(input, i, text(i), "a number");
                    }
                    double d = kind == INTEGER ? longs[i] : doubles[i];
                    switch (type) {
                        case FP16 -> bytes.putShort(Float.floatToFloat16((float) d));
                        case BF16 -> bytes.putShort((short) (Float.floatToRawIntBits((float) d) >>> 16));
                        case FP32 -> bytes.putFloat((float) d);
                        default -> bytes.putDouble(d);
                    }
                }
                default -> {
                    long min = switch (type) {
                        case UINT8 -> 0;
                        case INT8 -> Byte.MIN_VALUE;
                        case INT16 -> Short.MIN_VALUE;
                        case INT32 -> Integer.MIN_VALUE;
                        default -> Long.MIN_VALUE;
                    };
                    long max = switch (type) {
                        case UINT8 -> 255;
                        case INT8 -> Byte.MAX_VALUE;
                        case INT16 -> Short.MAX_VALUE;
                        case INT32 -> Integer.MAX_VALUE;
                        default -> Long.MAX_VALUE;
                    };
                    if (kind != INTEGER || longs[i] < min || longs[i] > max) {
                        throw element(input, i, text(i), String.format(Locale.ROOT, "an integer in [%d, %d]", min, max));
                    }
                    long l = longs[i];
                    switch (type) {
                        case UINT8, INT8 -> bytes.put((byte) l);
                        case INT16 -> bytes.putShort((short) l);
                        case INT32 -> bytes.putInt((int) l);
                        default -> bytes.putLong(l);
                    }
                }
            }
        }
    }

    private static IllegalArgumentException element(String input, int index, String value, String expected) {
        return new IllegalArgumentException("input " + input + " element " + index + " is " + value
                + ", expected " + expected);
    }
}
