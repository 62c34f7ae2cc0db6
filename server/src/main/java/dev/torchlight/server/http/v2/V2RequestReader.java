package dev.torchlight.server.http.v2;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.torchlight.api.DataType;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.handler.HandlerItem;
import dev.torchlight.server.http.json.Json;
import dev.torchlight.server.http.json.JsonTensorReader;
import dev.torchlight.server.inference.RequestControls;
import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses a v2 inference request body ({@code {id, parameters, inputs, outputs}}) with the
 * streaming parser. Tensor data is decoded as it streams when the input's name, datatype and
 * shape came before its {@code data}; otherwise the data's position is remembered and decoded
 * once the input object is complete, so field order never matters. Unknown fields are skipped.
 *
 * <p>With the binary tensor extension the body is a JSON header followed by raw tensor bytes: an
 * input with {@code parameters.binary_data_size} and no {@code data} takes the next that many
 * bytes after the header, in the order of {@code inputs}, as a slice (never decoded element by
 * element). Outputs may ask for binary replies ({@code parameters.binary_data} per output,
 * {@code parameters.binary_data_output} for all).
 */
public final class V2RequestReader {
    /** Request parameter: how long the request may wait before it runs, in microseconds (Triton's name). */
    public static final String TIMEOUT = "timeout";
    /** Request parameter: the request's priority level, 1 being the highest. */
    public static final String PRIORITY = "priority";
    /** Input parameter of the binary extension: the input's bytes after the JSON header. */
    public static final String BINARY_DATA_SIZE = "binary_data_size";
    /** Output parameter of the binary extension: send this output as raw bytes (true) or JSON. */
    public static final String BINARY_DATA = "binary_data";
    /** Request parameter of the binary extension: the default of {@link #BINARY_DATA} for every output. */
    public static final String BINARY_DATA_OUTPUT = "binary_data_output";

    private final byte[] body;
    private final int jsonLength;
    private final BinaryInputs binary;
    private final JsonParser parser;
    private final Map<String, Boolean> binaryOutputs = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private final List<HandlerItem> items = new ArrayList<>();
    /** The name of a BYTES input, once one was read. */
    private String bytesInput;

    private V2RequestReader(byte[] body, int jsonLength, BinaryInputs binary, JsonParser parser) {
        this.body = body;
        this.jsonLength = jsonLength;
        this.binary = binary;
        this.parser = parser;
    }

    /**
     * Reads a request whose first {@code jsonLength} bytes are the JSON header; the rest of
     * {@code body}, if any, is the binary tensor data of the inputs that name a
     * {@code binary_data_size}. Without binary data ({@code jsonLength == body.length}) this is a
     * plain JSON request that may still ask for binary outputs. The request parameters
     * {@code timeout} (microseconds, as Triton) and {@code priority} (1 = highest) become the
     * request's timeout and priority; where the body does not set one, {@code headers} may (the body
     * wins); otherwise it is 0, the model's default.
     *
     * @param headers the controls sent as HTTP headers
     * @throws ServingException.InvalidInput for malformed JSON (with its line and column), for
     *     anything that does not follow the v2 request schema, naming the offending input or
     *     parameter, and for binary sizes that do not add up, naming the input and the sizes
     */
    public static V2Request read(byte[] body, int jsonLength, RequestControls headers) {
        BinaryInputs binary = new BinaryInputs(body, jsonLength);
        try (JsonParser parser = Json.FACTORY.createParser(body, 0, jsonLength)) {
            V2RequestReader reader = new V2RequestReader(body, jsonLength, binary, parser);
            V2Request request = reader.request(headers);
            binary.checkAllUsed();
            return request;
        } catch (IOException e) {
            throw new ServingException.InvalidInput(Json.describe(e));
        }
    }

    private V2Request request(RequestControls headers) throws IOException {
        JsonToken first = parser.nextToken();
        if (first == null) {
            throw invalid("the request body is empty; expected a JSON object with 'inputs'");
        }
        if (first != JsonToken.START_OBJECT) {
            throw invalid("the request body must be a JSON object with 'inputs'");
        }
        String id = null;
        Map<String, Object> parameters = Map.of();
        boolean sawInputs = false;
        List<String> outputs = List.of();
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String field = parser.currentName();
            JsonToken value = parser.nextToken();
            switch (field) {
                case "id" -> id = string(value, "'id'");
                case "parameters" -> parameters = parameters(value, "'parameters'");
                case "inputs" -> {
                    inputs(value);
                    sawInputs = true;
                }
                case "outputs" -> outputs = outputs(value);
                default -> parser.skipChildren();
            }
        }
        if (parser.nextToken() != null) {
            throw invalid("unexpected content after the request object");
        }
        if (!sawInputs) {
            throw invalid("the request has no 'inputs'");
        }
        long timeout = control(parameters, TIMEOUT, "a non-negative integer number of microseconds",
                RequestControls.MAX_TIMEOUT_MICROS);
        long priority = control(parameters, PRIORITY, "a priority level (a non-negative integer, 1 = highest)",
                Integer.MAX_VALUE);
        Object byDefault = parameters.get(BINARY_DATA_OUTPUT);
        if (byDefault != null && !(byDefault instanceof Boolean)) {
            throw invalid("'parameters." + BINARY_DATA_OUTPUT + "' must be true or false, got " + byDefault);
        }
        RequestControls controls = new RequestControls(
                priority == RequestControls.UNSET ? headers.priority() : (int) priority,
                timeout == RequestControls.UNSET ? headers.timeoutMicros() : timeout);
        return new V2Request(id, tensors, items, outputs, controls, Boolean.TRUE.equals(byDefault), binaryOutputs);
    }

    /** A request parameter that must be an integer from 0 to {@code max}; {@link RequestControls#UNSET} if absent. */
    private static long control(Map<String, Object> parameters, String key, String expected, long max) {
        Object value = parameters.get(key);
        if (value == null) {
            return RequestControls.UNSET;
        }
        String label = "'parameters." + key + "'";
        if (value instanceof BigInteger) {
            throw invalid(label + " is too large: " + value);
        }
        if (!(value instanceof Integer || value instanceof Long)) {
            throw invalid(label + " must be " + expected + ", got " + (value instanceof String text
                    ? "the string \"" + text + "\"" : value));
        }
        long n = ((Number) value).longValue();
        if (n < 0) {
            throw invalid(label + " must be " + expected + ", got " + n);
        }
        if (n > max) {
            throw invalid(label + " is too large: " + n);
        }
        return n;
    }

    /** Reads {@code inputs} into {@link #tensors} and {@link #items}. */
    private void inputs(JsonToken value) throws IOException {
        if (value != JsonToken.START_ARRAY) {
            throw invalid("'inputs' must be an array of input objects");
        }
        Set<String> names = new HashSet<>();
        int index = 0;
        while (parser.nextToken() != JsonToken.END_ARRAY) {
            String name = input(index++);
            if (!names.add(name)) {
                throw invalid("input '" + name + "' appears more than once");
            }
        }
        if (!tensors.isEmpty() && bytesInput != null) {
            throw invalid("input '" + bytesInput + "' is BYTES and input '" + tensors.get(0).name() + "' is "
                    + tensors.get(0).dataType() + ": a request sends tensors for the model, or BYTES (such as"
                    + " base64 images) for its handler, not both");
        }
    }

    /**
     * One {@code {name, datatype, shape, parameters, data}} object, the parser on its first token:
     * a tensor, or for datatype BYTES its elements as items.
     *
     * @return the input's name
     */
    private String input(int index) throws IOException {
        // The labels of errors are made only for an error: this runs for every input of every request.
        if (parser.currentToken() != JsonToken.START_OBJECT) {
            throw invalid(where(index) + " must be an object with name, datatype, shape and data");
        }
        String name = null;
        String datatype = null;
        long[] shape = null;
        Tensor tensor = null;
        boolean itemsRead = false;
        Map<String, Object> parameters = Map.of();
        boolean hasData = false;
        long deferredData = -1; // byte offset of a data array seen before name, datatype and shape
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String field = parser.currentName();
            JsonToken value = parser.nextToken();
            switch (field) {
                case "name" -> name = inputString(value, index, "name");
                case "datatype" -> datatype = inputString(value, index, "datatype");
                case "shape" -> shape = shape(value, name, index);
                case "parameters" -> parameters = parameters(value, where(index) + ".parameters");
                case "data" -> {
                    hasData = true;
                    if (value != JsonToken.START_ARRAY) {
                        throw invalid(label(name, index) + ": 'data' must be an array");
                    }
                    if (name != null && datatype != null && isBytes(datatype)) {
                        BytesItems.read(parser, name, items);
                        itemsRead = true;
                    } else if (name != null && datatype != null && shape != null) {
                        tensor = JsonTensorReader.read(parser, name, dataType(name, datatype), shape, maxElements());
                    } else {
                        deferredData = parser.currentTokenLocation().getByteOffset();
                        parser.skipChildren();
                    }
                }
                default -> parser.skipChildren();
            }
        }
        if (name == null) {
            throw invalid(where(index) + " has no 'name'");
        }
        if (datatype == null) {
            throw invalid(label(name, index) + " has no 'datatype'");
        }
        if (shape == null) {
            throw invalid(label(name, index) + " has no 'shape'");
        }
        Object binarySize = parameters.get(BINARY_DATA_SIZE);
        if (isBytes(datatype)) {
            if (binarySize != null) {
                throw invalid(label(name, index) + " is BYTES: send its elements as base64 strings in 'data';"
                        + " binary BYTES data after the JSON header is not supported");
            }
            if (!itemsRead) {
                if (deferredData < 0) {
                    throw invalid(label(name, index) + " has no 'data'; expected base64 strings, one per item");
                }
                try (JsonParser data = reparse(deferredData)) {
                    BytesItems.read(data, name, items);
                }
            }
            bytesInput = name;
            return name;
        }
        if (binarySize != null) {
            if (hasData) {
                throw invalid(label(name, index) + " has both 'data' and 'parameters." + BINARY_DATA_SIZE
                        + "'; send one of them");
            }
            tensors.add(binary.next(name, dataType(name, datatype), shape, binarySize));
            return name;
        }
        if (tensor == null) {
            if (deferredData < 0) {
                throw invalid(label(name, index) + " has no 'data' and no 'parameters." + BINARY_DATA_SIZE
                        + "'; expected the elements in 'data', or binary data after the JSON header");
            }
            DataType type = dataType(name, datatype);
            try (JsonParser data = reparse(deferredData)) {
                tensor = JsonTensorReader.read(data, name, type, shape, maxElements());
            }
        }
        tensors.add(tensor);
        return name;
    }

    /** How errors name {@code inputs[index]}. */
    private static String where(int index) {
        return "inputs[" + index + "]";
    }

    /** How errors name an input: by its name once known, else by its position. */
    private static String label(String name, int index) {
        return name != null ? "input '" + name + "'" : where(index);
    }

    /** A string field of {@code inputs[index]}. */
    private String inputString(JsonToken value, int index, String field) throws IOException {
        if (value != JsonToken.VALUE_STRING) {
            throw invalid(where(index) + "." + field + " must be a string");
        }
        return parser.getText();
    }

    /** A parser over the JSON header from {@code offset}, on its first token. */
    private JsonParser reparse(long offset) throws IOException {
        JsonParser data = Json.FACTORY.createParser(body, (int) offset, jsonLength - (int) offset);
        data.nextToken();
        return data;
    }

    static boolean isBytes(String datatype) {
        return "BYTES".equalsIgnoreCase(datatype.strip());
    }


    private static DataType dataType(String name, String datatype) {
        try {
            return DataType.parse(datatype);
        } catch (IllegalArgumentException e) {
            throw invalid("input '" + name + "': " + e.getMessage());
        }
    }

    /** Each element takes at least two bytes ("1,"), which bounds what a body can hold. */
    private long maxElements() {
        return jsonLength / 2 + 1;
    }

    private long[] shape(JsonToken value, String name, int index) throws IOException {
        if (value != JsonToken.START_ARRAY) {
            throw invalid(label(name, index) + ": 'shape' must be an array of non-negative integers");
        }
        long[] dims = new long[4]; // grown for higher ranks, up to MAX_RANK
        int rank = 0;
        JsonToken token;
        while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
            if (token != JsonToken.VALUE_NUMBER_INT || parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                    || parser.getLongValue() < 0) {
                throw invalid(label(name, index) + ": 'shape' must be an array of non-negative integers, found "
                        + (token == null ? "the end" : parser.getText()));
            }
            if (rank == JsonTensorReader.MAX_RANK) {
                throw invalid(label(name, index) + ": 'shape' has more than " + JsonTensorReader.MAX_RANK
                        + " dimensions");
            }
            if (rank == dims.length) {
                dims = Arrays.copyOf(dims, Math.min(JsonTensorReader.MAX_RANK, 2 * rank));
            }
            dims[rank++] = parser.getLongValue();
        }
        return Arrays.copyOf(dims, rank);
    }

    private List<String> outputs(JsonToken value) throws IOException {
        if (value != JsonToken.START_ARRAY) {
            throw invalid("'outputs' must be an array of {\"name\": ...} objects");
        }
        List<String> names = new ArrayList<>();
        while (parser.nextToken() != JsonToken.END_ARRAY) {
            String where = "outputs[" + names.size() + "]";
            if (parser.currentToken() != JsonToken.START_OBJECT) {
                throw invalid(where + " must be an object with a 'name'");
            }
            String name = null;
            Object binaryData = null;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken v = parser.nextToken();
                switch (field) {
                    case "name" -> name = string(v, where + ".name");
                    case "parameters" -> binaryData = parameters(v, where + ".parameters").get(BINARY_DATA);
                    default -> parser.skipChildren();
                }
            }
            if (name == null) {
                throw invalid(where + " has no 'name'");
            }
            if (names.contains(name)) {
                throw invalid("output '" + name + "' is requested more than once");
            }
            if (binaryData != null) {
                if (!(binaryData instanceof Boolean flag)) {
                    throw invalid("output '" + name + "': 'parameters." + BINARY_DATA + "' must be true or false, got "
                            + binaryData);
                }
                binaryOutputs.put(name, flag);
            }
            names.add(name);
        }
        return names;
    }

    /** {@code {key: string | number | boolean}}; null values are dropped. */
    private Map<String, Object> parameters(JsonToken value, String label) throws IOException {
        if (value != JsonToken.START_OBJECT) {
            throw invalid(label + " must be an object");
        }
        Map<String, Object> parameters = new LinkedHashMap<>();
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String key = parser.currentName();
            JsonToken v = parser.nextToken();
            switch (v) {
                case VALUE_STRING -> parameters.put(key, parser.getText());
                case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> parameters.put(key, parser.getNumberValue());
                case VALUE_TRUE -> parameters.put(key, Boolean.TRUE);
                case VALUE_FALSE -> parameters.put(key, Boolean.FALSE);
                case VALUE_NULL -> { }
                default -> throw invalid(label + "." + key + " must be a string, number or boolean");
            }
        }
        return parameters;
    }

    private String string(JsonToken value, String label) throws IOException {
        if (value != JsonToken.VALUE_STRING) {
            throw invalid(label + " must be a string");
        }
        return parser.getText();
    }

    static ServingException.InvalidInput invalid(String message) {
        return new ServingException.InvalidInput(message);
    }
}
