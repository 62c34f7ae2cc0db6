package dev.torchlight.embedded;

import dev.torchlight.api.DataType;
import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.registry.ServedVersion;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/** {@link Model#infer(float[])}: a float array as the one FP32 input of a model, and its one output back. */
final class FloatRows {
    private FloatRows() {}

    /**
     * The request for {@code values} as {@code target}'s one FP32 input.
     *
     * @throws ServingException.NotReady when the version has no config (it did not load)
     * @throws ServingException.InvalidInput when the model does not take one fixed-shape FP32 input
     *     and give one FP32 output, or {@code values} is not a whole number of rows
     */
    static InferenceRequest request(ServedVersion target, float[] values) {
        ModelConfig config = target.config();
        if (config == null) {
            throw new ServingException.NotReady("model '" + target.model() + "' version " + target.version()
                    + " is not ready" + (target.error() != null ? ": " + target.error() : ""));
        }
        String model = "model '" + config.name() + "'";
        if (config.inputs().size() != 1 || config.outputs().size() != 1
                || config.inputs().getFirst().dataType() != DataType.FP32
                || config.outputs().getFirst().dataType() != DataType.FP32) {
            throw new ServingException.InvalidInput(model + " takes " + config.inputs() + " and gives "
                    + config.outputs() + "; infer(float[]) needs one FP32 input and one FP32 output, use"
                    + " infer(InferenceRequest)");
        }
        TensorSpec input = config.inputs().getFirst();
        long[] dims = input.shape();
        long rowSize = 1;
        for (long d : dims) {
            if (d < 0) {
                throw new ServingException.InvalidInput(model + " input '" + input.name() + "' has the variable"
                        + " shape " + Arrays.toString(dims) + "; infer(float[]) needs a fixed one, use"
                        + " infer(InferenceRequest)");
            }
            rowSize *= d;
        }
        long[] shape;
        if (config.batched()) {
            if (values.length == 0 || values.length % rowSize != 0) {
                throw new ServingException.InvalidInput(model + " input '" + input.name() + "': " + values.length
                        + " values are not a whole number of rows of shape " + Arrays.toString(dims) + " ("
                        + rowSize + " values each)");
            }
            shape = new long[dims.length + 1];
            shape[0] = values.length / rowSize;
            System.arraycopy(dims, 0, shape, 1, dims.length);
        } else {
            if (values.length != rowSize) {
                throw new ServingException.InvalidInput(model + " input '" + input.name() + "' takes shape "
                        + Arrays.toString(dims) + " (" + rowSize + " values), got " + values.length + " values");
            }
            shape = dims;
        }
        ByteBuffer data = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        data.asFloatBuffer().put(values);
        return new InferenceRequest(null, List.of(new Tensor(input.name(), DataType.FP32, shape, data)), List.of(), 0,
                0);
    }

    /** The elements of the response's one output. */
    static float[] values(InferenceResponse response) {
        Tensor output = response.outputs().getFirst();
        float[] values = new float[Math.toIntExact(output.elementCount())];
        output.data().asFloatBuffer().get(values);
        return values;
    }
}
