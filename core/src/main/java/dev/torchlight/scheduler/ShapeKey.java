package dev.torchlight.scheduler;

import dev.torchlight.api.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * The non-batch dimensions of every input of one request. Requests share a batch only when their
 * keys are equal, because a batch is one tensor per input whose rows must all have the same shape;
 * a ragged input's length is left out, because a batch concatenates its rows whatever their lengths.
 */
public final class ShapeKey {
    /** Per input: its rank without the batch dimension, then those dimensions. */
    private final long[] dims;
    private final int hash;

    private ShapeKey(long[] dims) {
        this.dims = dims;
        this.hash = Arrays.hashCode(dims);
    }

    /**
     * The key of a request's inputs.
     *
     * @param batched whether the first dimension of every input is the batch dimension, which is
     *     then left out of the key
     */
    public static ShapeKey of(List<Tensor> inputs, boolean batched) {
        return of(inputs, batched, new boolean[0]);
    }

    /**
     * The key of a request's inputs, some of which may be ragged.
     *
     * @param ragged by input, whether it is ragged: then only its rank is part of the key (inputs
     *     past the array's end are not ragged)
     */
    static ShapeKey of(List<Tensor> inputs, boolean batched, boolean[] ragged) {
        int from = batched ? 1 : 0;
        int length = 0;
        for (int t = 0; t < inputs.size(); t++) {
            length += 1 + (isRagged(ragged, t) ? 0 : Math.max(0, inputs.get(t).rank() - from));
        }
        long[] dims = new long[length];
        int i = 0;
        for (int t = 0; t < inputs.size(); t++) {
            Tensor tensor = inputs.get(t);
            dims[i++] = Math.max(0, tensor.rank() - from);
            if (!isRagged(ragged, t)) {
                for (int d = from; d < tensor.rank(); d++) {
                    dims[i++] = tensor.dim(d);
                }
            }
        }
        return new ShapeKey(dims);
    }

    private static boolean isRagged(boolean[] ragged, int input) {
        return input < ragged.length && ragged[input];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ShapeKey k && hash == k.hash && Arrays.equals(dims, k.dims);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return "ShapeKey" + Arrays.toString(dims);
    }
}
