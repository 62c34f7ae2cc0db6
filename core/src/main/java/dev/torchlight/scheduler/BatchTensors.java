package dev.torchlight.scheduler;

import dev.torchlight.api.Tensor;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The one copy of the data path: a batch's inputs gathered into one direct buffer per input (as the
 * model's {@link BatchLayout} says), and the engine's outputs split back to each request by slicing
 * (no copy). A batch of one request passes its tensors through untouched.
 */
final class BatchTensors {
    private BatchTensors() {}

    /**
     * One tensor per input, of shape {@code [totalRows, ...]}, holding the requests' rows in batch
     * order. All requests have the same {@link ShapeKey}, so the non-batch dimensions agree.
     */
    static List<Tensor> gather(List<PendingRequest> batch, int totalRows) {
        return gather(batch, totalRows, BatchLayout.STACKED);
    }

    /** One tensor per model input, as {@code layout} says (ragged inputs, batch inputs). */
    static List<Tensor> gather(List<PendingRequest> batch, int totalRows, BatchLayout layout) {
        if (batch.size() == 1 && layout.stacked()) {
            return batch.get(0).inputs();
        }
        List<List<Tensor>> inputs = new ArrayList<>(batch.size());
        int[] rows = new int[batch.size()];
        for (int j = 0; j < rows.length; j++) {
            inputs.add(batch.get(j).inputs());
            rows[j] = batch.get(j).rows();
        }
        return layout.gather(inputs, rows, totalRows);
    }

    /**
     * Each request's own rows of every output, as slices of the engine's buffers.
     *
     * @param batched whether outputs carry the batch dimension first; if not, the batch is one
     *     request and gets the outputs as they are
     * @return per request, in batch order, its outputs in the engine's order
     * @throws RowMismatch when an output's first dimension is not {@code totalRows}
     */
    static List<List<Tensor>> split(List<Tensor> outputs, List<PendingRequest> batch, int totalRows, boolean batched) {
        if (!batched) {
            return List.of(outputs);
        }
        for (Tensor out : outputs) {
            if (out.rank() == 0 || out.dim(0) != totalRows) {
                throw new RowMismatch("model returned " + (out.rank() == 0 ? "a scalar"
                        : out.dim(0) + (out.dim(0) == 1 ? " row" : " rows"))
                        + " in output '" + out.name() + "' for a batch of " + totalRows + " rows");
            }
        }
        if (batch.size() == 1) {
            return List.of(outputs);
        }
        List<List<Tensor>> perRequest = new ArrayList<>(batch.size());
        for (int j = 0; j < batch.size(); j++) {
            perRequest.add(new ArrayList<>(outputs.size()));
        }
        for (Tensor out : outputs) {
            ByteBuffer data = out.data();
            int rowBytes = data.remaining() / totalRows;
            long[] shape = out.shape();
            int offset = 0;
            for (int j = 0; j < batch.size(); j++) {
                int rows = batch.get(j).rows();
                shape[0] = rows;
                int length = rows * rowBytes;
                perRequest.get(j).add(new Tensor(out.name(), out.dataType(), shape, data.slice(offset, length)));
                offset += length;
            }
        }
        return perRequest;
    }

    /** The engine's outputs do not have one row per batch row. */
    static final class RowMismatch extends RuntimeException {
        private static final long serialVersionUID = 1L;

        RowMismatch(String message) {
            super(message);
        }
    }
}
