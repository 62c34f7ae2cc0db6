package dev.torchlight.scheduler;

import dev.torchlight.api.DataType;
import dev.torchlight.api.Shapes;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.BatchInput;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * How a model's requests become the tensors its forward takes. Most models take each input as the
 * requests' rows stacked along the batch dimension. A ragged input ({@code allow_ragged_batch}) is
 * taken as one 1-D tensor, every row's elements one after the other, so that requests whose lists
 * differ in length share a batch; the model learns where each row's elements start from the batch
 * inputs the server appends ({@link BatchInput}: element counts or offsets, one per row). A request
 * of {@code k} rows sends a ragged input as {@code [k, m]}: each of its rows has {@code m} elements.
 */
public final class BatchLayout {
    /** Each input stacked by rows, nothing appended: the layout of every model without ragged inputs. */
    static final BatchLayout STACKED = new BatchLayout(true, new boolean[0], List.of(), new int[0]);

    private final boolean batched;
    /** By declared input: whether it is ragged. */
    private final boolean[] ragged;
    private final List<BatchInput> batchInputs;
    /** By batch input: the index of its source among the declared inputs. */
    private final int[] sources;

    private BatchLayout(boolean batched, boolean[] ragged, List<BatchInput> batchInputs, int[] sources) {
        this.batched = batched;
        this.ragged = ragged;
        this.batchInputs = batchInputs;
        this.sources = sources;
    }

    /** The layout {@code config} declares. */
    public static BatchLayout of(ModelConfig config) {
        List<TensorSpec> inputs = config.inputs();
        boolean[] ragged = new boolean[inputs.size()];
        for (int i = 0; i < ragged.length; i++) {
            ragged[i] = inputs.get(i).ragged();
        }
        int[] sources = new int[config.batchInputs().size()];
        for (int b = 0; b < sources.length; b++) {
            String source = config.batchInputs().get(b).sourceInput();
            sources[b] = inputs.stream().map(TensorSpec::name).toList().indexOf(source);
            if (sources[b] < 0) {
                throw new IllegalArgumentException("batch input '" + config.batchInputs().get(b).name()
                        + "' counts input '" + source + "', which model '" + config.name() + "' does not declare");
            }
        }
        return new BatchLayout(config.batched(), ragged, config.batchInputs(), sources);
    }

    /** Whether the requests' tensors go to the model as they are, stacked by rows. */
    boolean stacked() {
        return batchInputs.isEmpty() && !anyRagged();
    }

    private boolean anyRagged() {
        for (boolean r : ragged) {
            if (r) {
                return true;
            }
        }
        return false;
    }

    private boolean ragged(int input) {
        return input < ragged.length && ragged[input];
    }

    /**
     * The key under which a request's inputs may share a batch: their dimensions other than the
     * batch dimension, except the lengths of ragged inputs, which any batch takes.
     */
    public ShapeKey shapeKey(List<Tensor> inputs) {
        return ShapeKey.of(inputs, batched, ragged);
    }

    /**
     * What the model takes for one request alone: its inputs in declared order, a ragged one
     * flattened (no copy), followed by the batch inputs.
     *
     * @param inputs one tensor per declared input, validated
     */
    public List<Tensor> modelInputs(List<Tensor> inputs) {
        int rows = batched && !inputs.isEmpty() ? Math.toIntExact(inputs.get(0).dim(0)) : 1;
        return gather(List.of(inputs), new int[] {rows}, rows);
    }

    /**
     * One tensor per model input for a batch: each declared input's rows in batch order (a ragged
     * input's elements concatenated into one 1-D tensor), then the batch inputs. A batch of one
     * request passes its tensors through untouched.
     *
     * @param requests per request, one tensor per declared input; all with the same {@link ShapeKey}
     * @param rows per request, its rows
     * @param totalRows the sum of {@code rows}
     */
    List<Tensor> gather(List<List<Tensor>> requests, int[] rows, int totalRows) {
        List<Tensor> first = requests.get(0);
        if (requests.size() == 1 && stacked()) {
            return first;
        }
        List<Tensor> gathered = new ArrayList<>(first.size() + batchInputs.size());
        for (int i = 0; i < first.size(); i++) {
            Tensor template = first.get(i);
            if (requests.size() == 1) {
                gathered.add(ragged(i) ? flat(template, template.elementCount()) : template);
                continue;
            }
            long[] shape;
            if (ragged(i)) {
                long elements = 0;
                for (List<Tensor> r : requests) {
                    elements += r.get(i).elementCount();
                }
                shape = new long[] {elements};
            } else {
                shape = template.shape();
                shape[0] = totalRows;
            }
            ByteBuffer buffer = allocate(template.name(), template.dataType(), shape, Shapes.elementCount(shape));
            for (List<Tensor> r : requests) {
                buffer.put(r.get(i).data());
            }
            gathered.add(new Tensor(template.name(), template.dataType(), shape, buffer.flip()));
        }
        for (int b = 0; b < batchInputs.size(); b++) {
            gathered.add(batchInput(batchInputs.get(b), sources[b], requests, rows, totalRows));
        }
        return gathered;
    }

    /** One batch input: per row, the number of the source input's elements, counted as its kind says. */
    private static Tensor batchInput(BatchInput spec, int source, List<List<Tensor>> requests, int[] rows,
            int totalRows) {
        BatchInput.Kind kind = spec.kind();
        long[] shape = {kind.length(totalRows)};
        ByteBuffer buffer = allocate(spec.name(), spec.dataType(), shape, shape[0]);
        long sum = 0;
        if (kind == BatchInput.Kind.BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO) {
            put(buffer, spec.dataType(), 0);
        }
        for (int j = 0; j < requests.size(); j++) {
            // The validator gave the request's inputs the same rows, so each row has as many elements.
            long perRow = requests.get(j).get(source).elementCount() / rows[j];
            for (int row = 0; row < rows[j]; row++) {
                sum += perRow;
                put(buffer, spec.dataType(), kind == BatchInput.Kind.BATCH_ELEMENT_COUNT ? perRow : sum);
            }
        }
        if (spec.dataType() == DataType.INT32 && sum > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("batch input '" + spec.name() + "' counts " + sum
                    + " elements, more than INT32 holds");
        }
        return new Tensor(spec.name(), spec.dataType(), shape, buffer.flip());
    }

    private static void put(ByteBuffer buffer, DataType type, long value) {
        if (type == DataType.INT32) {
            buffer.putInt((int) value);
        } else {
            buffer.putLong(value);
        }
    }

    /** A ragged input of one request as the model takes it: its elements as one 1-D tensor. */
    private static Tensor flat(Tensor t, long elements) {
        return new Tensor(t.name(), t.dataType(), new long[] {elements}, t.data());
    }

    private static ByteBuffer allocate(String name, DataType type, long[] shape, long elements) {
        long bytes = Math.multiplyExact(elements, (long) type.byteSize());
        if (bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("batched input '" + name + "' " + Shapes.format(shape) + " needs "
                    + bytes + " bytes, more than one buffer holds");
        }
        return ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    }
}
