package dev.torchlight.bench.raw;

import dev.torchlight.api.DataType;
import dev.torchlight.api.Tensor;
import dev.torchlight.bench.load.ReplayFile;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A raw-engine batch made of a recording's first rows ({@code --replay}), in the model's input order. */
final class ReplayedTensors {
    private ReplayedTensors() {}

    /**
     * The first {@code batch} rows of the recording, one tensor per declared input.
     *
     * @throws IllegalArgumentException when the model has no batch dimension or the recording's inputs
     *     are not the model's (names, datatypes, shapes past the batch dimension)
     */
    static List<Tensor> of(ModelConfig config, ReplayFile recording, int batch) {
        if (!config.batched()) {
            throw new IllegalArgumentException("--replay stacks recorded rows into batches; model '" + config.name()
                    + "' has max_batch_size 0 (no batch dimension)");
        }
        List<ReplayFile.Stacked> stacked = recording.stack(batch);
        List<Tensor> tensors = new ArrayList<>(config.inputs().size());
        for (TensorSpec spec : config.inputs()) {
            ReplayFile.Stacked input = stacked.stream().filter(s -> s.name().equals(spec.name())).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("the recording " + recording.file()
                            + " has no input '" + spec.name() + "' of model '" + config.name() + "'"));
            long[] rowShape = Arrays.copyOfRange(input.shape(), 1, input.shape().length);
            boolean fits = rowShape.length == spec.shape().length;
            for (int d = 0; fits && d < rowShape.length; d++) {
                fits = spec.shape()[d] == -1 || spec.shape()[d] == rowShape[d];
            }
            if (!DataType.valueOf(input.datatype()).equals(spec.dataType()) || !fits) {
                throw new IllegalArgumentException("the recording's input '" + spec.name() + "' is " + input.datatype()
                        + Arrays.toString(rowShape) + " per row; model '" + config.name() + "' declares "
                        + spec.dataType() + Arrays.toString(spec.shape()));
            }
            ByteBuffer data = RandomTensors.aligned(input.data().remaining()).put(input.data()).flip();
            tensors.add(new Tensor(spec.name(), spec.dataType(), input.shape(), data));
        }
        if (stacked.size() != config.inputs().size()) {
            throw new IllegalArgumentException("the recording " + recording.file() + " has " + stacked.size()
                    + " inputs; model '" + config.name() + "' declares " + config.inputs().size());
        }
        return tensors;
    }
}
