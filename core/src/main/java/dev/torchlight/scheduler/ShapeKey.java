package dev.torchlight.scheduler;

import dev.torchlight.api.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * The non-batch dimensions of every input of one request. Requests share a batch only when their
 * keys are equal, because a batch is one tensor per input whose rows must all have the same shape.
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
        int from = batched ? 1 : 0;
        int length = 0;
        for (Tensor t : inputs) {
            length += 1 + Math.max(0, t.rank() - from);
        }
        long[] dims = new long[length];
        int i = 0;
        for (Tensor t : inputs) {
            dims[i++] = Math.max(0, t.rank() - from);
            for (int d = from; d < t.rank(); d++) {
                dims[i++] = t.dim(d);
            }
        }
        return new ShapeKey(dims);
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
