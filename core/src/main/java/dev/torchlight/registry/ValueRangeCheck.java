package dev.torchlight.registry;

import dev.torchlight.api.ServingException.InvalidInput;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.config.ValueRange;
import java.nio.ByteBuffer;
import java.util.StringJoiner;

/**
 * Checks every element of an integer input against its {@code value_range} (one range, or one per
 * column) before the request is queued, so that an id beyond an embedding table is the client's 400:
 * in libtorch it would fail the whole batch it shares with other requests (on a GPU it breaks the
 * device's context). One pass over the little-endian bytes, no boxing.
 */
final class ValueRangeCheck {
    private ValueRangeCheck() {}

    /**
     * @param spec the input's declaration; nothing is checked without a value range
     * @param tensor the input, of the spec's datatype
     * @throws InvalidInput naming the input, the first element outside, its value and the range
     */
    static void check(TensorSpec spec, Tensor tensor) {
        ValueRange range = spec.valueRange();
        if (range == null) {
            return;
        }
        ByteBuffer data = tensor.data();
        int n = Math.toIntExact(tensor.elementCount());
        if (range.columns() > 1) {
            checkColumns(spec, tensor, range, data, n);
            return;
        }
        long min = range.min(0);
        long max = range.max(0);
        // A loop per type, so that the JIT compiles each to a plain scan of the buffer.
        switch (tensor.dataType()) {
            case INT64 -> {
                for (int i = 0; i < n; i++) {
                    long v = data.getLong(i << 3);
                    if (v < min || v > max) {
                        throw outside(spec, tensor, i, v);
                    }
                }
            }
            case INT32 -> {
                for (int i = 0; i < n; i++) {
                    int v = data.getInt(i << 2);
                    if (v < min || v > max) {
                        throw outside(spec, tensor, i, v);
                    }
                }
            }
            case INT16 -> {
                for (int i = 0; i < n; i++) {
                    short v = data.getShort(i << 1);
                    if (v < min || v > max) {
                        throw outside(spec, tensor, i, v);
                    }
                }
            }
            case INT8 -> {
                for (int i = 0; i < n; i++) {
                    byte v = data.get(i);
                    if (v < min || v > max) {
                        throw outside(spec, tensor, i, v);
                    }
                }
            }
            case UINT8 -> {
                for (int i = 0; i < n; i++) {
                    int v = data.get(i) & 0xFF;
                    if (v < min || v > max) {
                        throw outside(spec, tensor, i, v);
                    }
                }
            }
            default -> throw unsupported(spec, tensor);
        }
    }

    /**
     * One range per column: element {@code i} against column {@code i % columns} (the config parser
     * made the input's last dimension the number of columns).
     */
    private static void checkColumns(TensorSpec spec, Tensor tensor, ValueRange range, ByteBuffer data, int n) {
        long[] mins = range.mins();
        long[] maxs = range.maxs();
        int columns = mins.length;
        int c = 0;
        for (int i = 0; i < n; i++) {
            long v = switch (tensor.dataType()) {
                case INT64 -> data.getLong(i << 3);
                case INT32 -> data.getInt(i << 2);
                case INT16 -> data.getShort(i << 1);
                case INT8 -> data.get(i);
                case UINT8 -> data.get(i) & 0xFF;
                default -> throw unsupported(spec, tensor);
            };
            if (v < mins[c] || v > maxs[c]) {
                throw outside(spec, tensor, i, v);
            }
            if (++c == columns) {
                c = 0;
            }
        }
    }

    private static IllegalStateException unsupported(TensorSpec spec, Tensor tensor) {
        return new IllegalStateException("input '" + spec.name() + "' has a value_range but datatype "
                + tensor.dataType() + ", which the config parser refuses");
    }

    private static InvalidInput outside(TensorSpec spec, Tensor tensor, int element, long value) {
        ValueRange range = spec.valueRange();
        String allowed = range.columns() == 1 ? "the input's value_range " + range
                : "the value_range of its column, " + element % range.columns() + ", " + range.describe(element);
        return new InvalidInput("input '" + spec.name() + "': element " + element + " (at " + index(tensor, element)
                + ") is " + value + ", outside " + allowed + " (both ends allowed)");
    }

    /** The position of flat element {@code element} in the tensor's shape, e.g. {@code [1, 4]}. */
    private static String index(Tensor tensor, int element) {
        long[] at = new long[tensor.rank()];
        long rest = element;
        for (int d = at.length - 1; d >= 0; d--) {
            at[d] = rest % tensor.dim(d);
            rest /= tensor.dim(d);
        }
        StringJoiner joined = new StringJoiner(", ", "[", "]");
        for (long i : at) {
            joined.add(Long.toString(i));
        }
        return joined.toString();
    }
}
