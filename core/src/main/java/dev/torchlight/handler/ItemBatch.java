package dev.torchlight.handler;

import dev.torchlight.api.ServingException;
import dev.torchlight.api.Shapes;
import dev.torchlight.api.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Stacks the per-item tensors of one request into a batch, and splits a batch's outputs per item. */
final class ItemBatch {
    private ItemBatch() {}

    /**
     * @param perItem each item's inputs, in declared order, without batch dimension
     * @param batched whether the model takes a leading batch dimension
     */
    static List<Tensor> stack(List<List<Tensor>> perItem, boolean batched) {
        List<Tensor> first = perItem.get(0);
        if (!batched) {
            return first;
        }
        int n = perItem.size();
        List<Tensor> stacked = new ArrayList<>(first.size());
        for (int i = 0; i < first.size(); i++) {
            Tensor head = first.get(i);
            long[] shape = new long[head.rank() + 1];
            shape[0] = n;
            System.arraycopy(head.shape(), 0, shape, 1, head.rank());
            if (n == 1) {
                stacked.add(new Tensor(head.name(), head.dataType(), shape, head.data()));
                continue;
            }
            ByteBuffer all = ByteBuffer.allocate(Math.multiplyExact(n, head.data().remaining()))
                    .order(ByteOrder.LITTLE_ENDIAN);
            for (int item = 0; item < n; item++) {
                Tensor t = perItem.get(item).get(i);
                if (t.dataType() != head.dataType() || !Arrays.equals(t.shape(), head.shape())) {
                    throw new ServingException.InvalidInput("item " + item + " makes input '" + head.name() + "' "
                            + t.dataType() + " " + Shapes.format(t.shape()) + " but item 0 makes "
                            + head.dataType() + " " + Shapes.format(head.shape())
                            + "; the items of one request must agree to be batched (send them separately)");
                }
                all.put(t.data());
            }
            stacked.add(new Tensor(head.name(), head.dataType(), shape, all.flip()));
        }
        return stacked;
    }

    /** Each item's outputs without the batch dimension; an unbatched model's outputs belong to its one item. */
    static List<List<Tensor>> split(List<Tensor> outputs, int items, boolean batched) {
        if (!batched) {
            return List.of(outputs);
        }
        List<List<Tensor>> perItem = new ArrayList<>(items);
        for (int item = 0; item < items; item++) {
            List<Tensor> mine = new ArrayList<>(outputs.size());
            for (Tensor out : outputs) {
                if (out.rank() == 0 || out.dim(0) != items) {
                    throw new ServingException.Internal("output '" + out.name() + "' has shape "
                            + Shapes.format(out.shape()) + "; expected a leading batch dimension of " + items, null);
                }
                long[] shape = Arrays.copyOfRange(out.shape(), 1, out.rank());
                ByteBuffer data = out.data();
                int size = data.remaining() / items;
                ByteBuffer slice = data.position(item * size).limit(item * size + size).slice();
                mine.add(new Tensor(out.name(), out.dataType(), shape, slice));
            }
            perItem.add(mine);
        }
        return perItem;
    }
}
