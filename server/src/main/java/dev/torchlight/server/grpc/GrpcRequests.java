package dev.torchlight.server.grpc;

import com.google.protobuf.ByteString;
import dev.torchlight.api.DataType;
import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Shapes;
import dev.torchlight.api.Tensor;
import dev.torchlight.server.inference.RequestControls;
import inference.InferParameter;
import inference.InferTensorContents;
import inference.ModelInferRequest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a {@code ModelInferRequest} into the core's {@link InferenceRequest}. Raw input contents
 * are viewed in place (the tensor's buffer is the message's own bytes); typed contents are
 * written element by element into one little-endian buffer, without boxing. Every malformed
 * request is an {@link ServingException.InvalidInput} naming the input and what was expected.
 *
 * <p>Public only for {@link #read}, the reader of untrusted messages the fuzz targets call.
 */
public final class GrpcRequests {
    /** Request parameter: how long the request may wait before it runs, in microseconds (as REST). */
    static final String TIMEOUT = "timeout";
    /** Request parameter: the request's priority level, 1 being the highest (as REST). */
    static final String PRIORITY = "priority";

    private GrpcRequests() {}

    /**
     * The request's inputs, requested outputs, id, priority and timeout.
     *
     * @param deadlineMicros what is left of the call's deadline, in microseconds (at least 1), or
     *     0 when the call has none; the shorter of it and the {@code timeout} parameter applies
     * @throws ServingException.InvalidInput when the request is malformed, saying how
     */
    public static InferenceRequest read(ModelInferRequest request, long deadlineMicros) {
        List<Tensor> inputs = inputs(request);
        List<String> outputs = request.getOutputsCount() == 0 ? List.of() : new ArrayList<>(request.getOutputsCount());
        for (int i = 0; i < request.getOutputsCount(); i++) {
            String name = request.getOutputs(i).getName();
            if (name.isEmpty()) {
                throw invalid("outputs[" + i + "] has no name");
            }
            if (outputs.contains(name)) {
                throw invalid("output '" + name + "' is requested more than once");
            }
            outputs.add(name);
        }
        Map<String, Object> parameters = request.getParametersCount() == 0 ? Map.of()
                : parameters(request.getParametersMap(), "parameters");
        long timeout = control(parameters, TIMEOUT, "a non-negative integer number of microseconds",
                RequestControls.MAX_TIMEOUT_MICROS);
        long priority = control(parameters, PRIORITY, "a priority level (a non-negative integer, 1 = highest)",
                Integer.MAX_VALUE);
        long effectiveTimeout = timeout == RequestControls.UNSET ? 0 : timeout;
        if (deadlineMicros > 0 && (effectiveTimeout == 0 || deadlineMicros < effectiveTimeout)) {
            effectiveTimeout = deadlineMicros;
        }
        String id = request.getId().isEmpty() ? null : request.getId();
        return new InferenceRequest(id, inputs, outputs, priority == RequestControls.UNSET ? 0 : (int) priority,
                effectiveTimeout);
    }

    /**
     * A request's model name.
     *
     * @param field the message field it came from, for the error
     * @throws ServingException.InvalidInput when it is empty
     */
    static String model(String name, String field) {
        if (name.isEmpty()) {
            throw invalid(field + " is empty; expected the name of a model");
        }
        return name;
    }

    /** A version string: empty for the model's default, else a non-negative decimal integer. */
    static Long version(String text) {
        if (text.isEmpty()) {
            return null;
        }
        if (text.length() > 18 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw invalid("model version must be a non-negative integer, got '" + text + "'");
        }
        return Long.parseLong(text);
    }

    private static List<Tensor> inputs(ModelInferRequest request) {
        int count = request.getInputsCount();
        int raw = request.getRawInputContentsCount();
        if (count == 0) {
            throw invalid("the request has no inputs");
        }
        if (raw > 0 && raw != count) {
            throw invalid("raw_input_contents has " + raw + " entries for " + count
                    + " inputs; expected one per input, in the order of 'inputs'");
        }
        List<Tensor> tensors = new ArrayList<>(count);
        Set<String> names = count > 1 ? new HashSet<>() : null;
        for (int i = 0; i < count; i++) {
            ModelInferRequest.InferInputTensor input = request.getInputs(i);
            String name = input.getName();
            if (name.isEmpty()) {
                throw invalid("inputs[" + i + "] has no name");
            }
            if (names != null && !names.add(name)) {
                throw invalid("input '" + name + "' appears more than once");
            }
            DataType type;
            try {
                type = DataType.parse(input.getDatatype());
            } catch (IllegalArgumentException e) {
                throw invalid(label(name) + ": " + e.getMessage());
            }
            long[] shape = shape(input, name);
            long elements = elements(shape, type, name);
            if (raw > 0) {
                if (input.hasContents()) {
                    throw invalid(label(name) + " has both contents and raw_input_contents[" + i
                            + "]; send one of them");
                }
                tensors.add(rawTensor(name, type, shape, elements, request.getRawInputContents(i), i));
            } else {
                if (!input.hasContents()) {
                    throw invalid(label(name) + " has no contents, and the request has no raw_input_contents");
                }
                tensors.add(new Tensor(name, type, shape, typed(input.getContents(), type, (int) elements, name)));
            }
        }
        return tensors;
    }

    /** How errors name input {@code name}; made only for an error (this runs for every request). */
    private static String label(String name) {
        return "input '" + name + "'";
    }

    private static long[] shape(ModelInferRequest.InferInputTensor input, String name) {
        long[] shape = new long[input.getShapeCount()];
        for (int d = 0; d < shape.length; d++) {
            shape[d] = input.getShape(d);
            if (shape[d] < 0) {
                throw invalid(label(name) + ": shape " + input.getShapeList() + " has a negative dimension;"
                        + " expected non-negative sizes");
            }
        }
        return shape;
    }

    /** The element count, refusing shapes whose bytes would not fit one buffer. */
    private static long elements(long[] shape, DataType type, String name) {
        try {
            long n = Shapes.elementCount(shape);
            if (Math.multiplyExact(n, (long) type.byteSize()) <= Integer.MAX_VALUE) {
                return n;
            }
        } catch (ArithmeticException e) {
            // reported below
        }
        throw invalid(label(name) + " with shape " + Shapes.format(shape) + " and datatype " + type + " is too large");
    }

    private static Tensor rawTensor(String name, DataType type, long[] shape, long elements, ByteString bytes,
            int index) {
        long expected = elements * type.byteSize();
        if (bytes.size() != expected) {
            throw invalid("input '" + name + "' with shape " + Shapes.format(shape) + " and datatype " + type
                    + " needs " + expected + " bytes, raw_input_contents[" + index + "] has " + bytes.size());
        }
        // A view of the message's bytes, not a copy.
        return new Tensor(name, type, shape, bytes.asReadOnlyByteBuffer());
    }

    /** Typed contents in the field the protocol assigns to {@code type}, checked for count and range. */
    private static ByteBuffer typed(InferTensorContents c, DataType type, int n, String name) {
        String field = switch (type) {
            case BOOL -> "bool_contents";
            case INT8, INT16, INT32 -> "int_contents";
            case INT64 -> "int64_contents";
            case UINT8 -> "uint_contents";
            case FP32 -> "fp32_contents";
            case FP64 -> "fp64_contents";
            case FP16, BF16 -> throw invalid(label(name) + ": datatype " + type
                    + " has no typed contents field in the v2 gRPC protocol; send it in raw_input_contents");
        };
        int[] counts = {c.getBoolContentsCount(), c.getIntContentsCount(), c.getInt64ContentsCount(),
            c.getUintContentsCount(), c.getUint64ContentsCount(), c.getFp32ContentsCount(),
            c.getFp64ContentsCount(), c.getBytesContentsCount()};
        String[] fields = {"bool_contents", "int_contents", "int64_contents", "uint_contents", "uint64_contents",
            "fp32_contents", "fp64_contents", "bytes_contents"};
        int found = 0;
        for (int f = 0; f < fields.length; f++) {
            if (fields[f].equals(field)) {
                found = counts[f];
            } else if (counts[f] > 0) {
                throw invalid(label(name) + " of datatype " + type + " takes its elements in contents." + field
                        + ", found contents." + fields[f]);
            }
        }
        if (found != n) {
            throw invalid(label(name) + " needs " + n + " elements in contents." + field + " for its shape, got "
                    + found);
        }
        ByteBuffer out = ByteBuffer.allocate(n * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        switch (type) {
            case BOOL -> {
                for (int i = 0; i < n; i++) {
                    out.put((byte) (c.getBoolContents(i) ? 1 : 0));
                }
            }
            case INT8 -> {
                for (int i = 0; i < n; i++) {
                    out.put((byte) ranged(c.getIntContents(i), Byte.MIN_VALUE, Byte.MAX_VALUE, name, i, type));
                }
            }
            case INT16 -> {
                for (int i = 0; i < n; i++) {
                    out.putShort((short) ranged(c.getIntContents(i), Short.MIN_VALUE, Short.MAX_VALUE, name, i, type));
                }
            }
            case INT32 -> {
                for (int i = 0; i < n; i++) {
                    out.putInt(c.getIntContents(i));
                }
            }
            case INT64 -> {
                for (int i = 0; i < n; i++) {
                    out.putLong(c.getInt64Contents(i));
                }
            }
            case UINT8 -> {
                for (int i = 0; i < n; i++) {
                    out.put((byte) ranged(Integer.toUnsignedLong(c.getUintContents(i)), 0, 255, name, i, type));
                }
            }
            case FP32 -> {
                for (int i = 0; i < n; i++) {
                    out.putFloat(c.getFp32Contents(i));
                }
            }
            case FP64 -> {
                for (int i = 0; i < n; i++) {
                    out.putDouble(c.getFp64Contents(i));
                }
            }
            default -> throw new IllegalStateException("unreachable: " + type);
        }
        return out.flip();
    }

    private static long ranged(long value, long min, long max, String name, int index, DataType type) {
        if (value < min || value > max) {
            throw invalid(label(name) + ": element " + index + " is " + value + ", outside " + type + "'s range "
                    + min + ".." + max);
        }
        return value;
    }

    /** InferParameters as plain values: Boolean, Long, String or Double. */
    static Map<String, Object> parameters(Map<String, InferParameter> raw, String label) {
        if (raw.isEmpty()) {
            return Map.of();
        }
        Map<String, Object> out = new LinkedHashMap<>();
        raw.forEach((key, p) -> {
            Object value = switch (p.getParameterChoiceCase()) {
                case BOOL_PARAM -> p.getBoolParam();
                case INT64_PARAM -> p.getInt64Param();
                case STRING_PARAM -> p.getStringParam();
                case DOUBLE_PARAM -> p.getDoubleParam();
                case UINT64_PARAM -> {
                    if (p.getUint64Param() < 0) {
                        throw invalid("'" + label + "." + key + "' is too large: "
                                + Long.toUnsignedString(p.getUint64Param()));
                    }
                    yield p.getUint64Param();
                }
                case PARAMETERCHOICE_NOT_SET -> null;
            };
            if (value != null) {
                out.put(key, value);
            }
        });
        return out;
    }

    /** A request parameter that must be an integer from 0 to {@code max}; {@link RequestControls#UNSET} if absent. */
    private static long control(Map<String, Object> parameters, String key, String expected, long max) {
        Object value = parameters.get(key);
        if (value == null) {
            return RequestControls.UNSET;
        }
        String label = "'parameters." + key + "'";
        if (!(value instanceof Long n)) {
            throw invalid(label + " must be " + expected + " (int64_param), got " + (value instanceof String text
                    ? "the string \"" + text + "\"" : value));
        }
        if (n < 0) {
            throw invalid(label + " must be " + expected + ", got " + n);
        }
        if (n > max) {
            throw invalid(label + " is too large: " + n);
        }
        return n;
    }

    private static ServingException.InvalidInput invalid(String message) {
        return new ServingException.InvalidInput(message);
    }
}
