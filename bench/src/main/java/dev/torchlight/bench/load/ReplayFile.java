package dev.torchlight.bench.load;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
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
    private static final ObjectMapper JSON = new ObjectMapper();

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
        JsonNode root;
        try {
            root = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage(), e);
        }
        JsonNode inputs = root == null ? null : root.get("inputs");
        if (inputs == null || !inputs.isArray() || inputs.isEmpty()) {
            throw new IllegalArgumentException("expected a v2 request body with a non-empty \"inputs\" array");
        }
        List<InputTensor> tensors = new ArrayList<>(inputs.size());
        for (JsonNode input : inputs) {
            tensors.add(tensor(input));
        }
        return tensors;
    }

    private static InputTensor tensor(JsonNode input) {
        JsonNode name = input.get("name");
        JsonNode datatype = input.get("datatype");
        JsonNode shape = input.get("shape");
        JsonNode data = input.get("data");
        if (name == null || !name.isTextual() || datatype == null || !datatype.isTextual()
                || shape == null || !shape.isArray() || data == null || !data.isArray()) {
            throw new IllegalArgumentException("an input needs \"name\", \"datatype\", \"shape\" and a flat \"data\""
                    + " array: " + abbreviate(input));
        }
        Datatype type;
        try {
            type = Datatype.valueOf(datatype.asText());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("input " + name.asText() + ": datatype " + datatype.asText()
                    + " cannot be replayed; expected one of " + Arrays.toString(Datatype.values()), e);
        }
        long[] dims = new long[shape.size()];
        long count = 1;
        for (int i = 0; i < dims.length; i++) {
            if (!shape.get(i).isIntegralNumber() || shape.get(i).asLong() < 0) {
                throw new IllegalArgumentException("input " + name.asText() + ": shape must list sizes >= 0, got " + shape);
            }
            dims[i] = shape.get(i).asLong();
            count = Math.multiplyExact(count, dims[i]);
        }
        if (count != data.size()) {
            throw new IllegalArgumentException("input " + name.asText() + ": shape " + shape + " holds " + count
                    + " elements, data has " + data.size() + " (data must be flat)");
        }
        ByteBuffer bytes = ByteBuffer.allocate(Math.toIntExact(count * type.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
        for (int e = 0; e < data.size(); e++) {
            put(bytes, type, data.get(e), name.asText(), e);
        }
        return new InputTensor(name.asText(), type, dims, bytes.flip());
    }

    private static void put(ByteBuffer bytes, Datatype type, JsonNode v, String input, int index) {
        switch (type) {
            case BOOL -> {
                if (!v.isBoolean()) {
                    throw element(input, index, v, "true or false");
                }
                bytes.put((byte) (v.booleanValue() ? 1 : 0));
            }
            case FP16, BF16, FP32, FP64 -> {
                if (!v.isNumber()) {
                    throw element(input, index, v, "a number");
                }
                double d = v.doubleValue();
                switch (type) {
                    case FP16 -> bytes.putShort(Float.floatToFloat16((float) d));
                    case BF16 -> bytes.putShort((short) (Float.floatToRawIntBits((float) d) >>> 16));
                    case FP32 -> bytes.putFloat(v.floatValue());
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
                if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < min || v.longValue() > max) {
                    throw element(input, index, v, String.format(Locale.ROOT, "an integer in [%d, %d]", min, max));
                }
                long l = v.longValue();
                switch (type) {
                    case UINT8, INT8 -> bytes.put((byte) l);
                    case INT16 -> bytes.putShort((short) l);
                    case INT32 -> bytes.putInt((int) l);
                    default -> bytes.putLong(l);
                }
            }
        }
    }

    private static IllegalArgumentException element(String input, int index, JsonNode v, String expected) {
        return new IllegalArgumentException("input " + input + " element " + index + " is " + abbreviate(v)
                + ", expected " + expected);
    }

    private static String abbreviate(JsonNode node) {
        String text = node.toString();
        return text.length() <= 80 ? text : text.substring(0, 77) + "...";
    }
}
