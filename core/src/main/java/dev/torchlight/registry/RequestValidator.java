package dev.torchlight.registry;

import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.ServingException.InvalidInput;
import dev.torchlight.api.Shapes;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import java.util.List;
import java.util.stream.Collectors;

/** Checks a request against its model's declared inputs and outputs before it is queued. */
final class RequestValidator {
    private RequestValidator() {}

    /**
     * @return the inputs in the model's declared order
     * @throws InvalidInput naming the input and what was expected
     */
    static List<Tensor> inputsInOrder(ModelConfig config, InferenceRequest request) {
        // Runs for every request: plain loops over the few inputs a model has, no maps or streams.
        List<TensorSpec> specs = config.inputs();
        List<Tensor> given = request.inputs();
        Tensor[] bySpec = new Tensor[specs.size()];
        for (int g = 0; g < given.size(); g++) {
            Tensor t = given.get(g);
            int i = indexOf(specs, t.name());
            if (i < 0) {
                throw new InvalidInput("unknown input '" + t.name() + "' for model '" + config.name()
                        + "'; expected inputs: " + names(config.inputs()));
            }
            if (bySpec[i] != null) {
                throw new InvalidInput("input '" + t.name() + "' is given more than once");
            }
            bySpec[i] = t;
        }
        long batch = -1;
        String batchFrom = null;
        for (int i = 0; i < specs.size(); i++) {
            TensorSpec spec = specs.get(i);
            Tensor t = bySpec[i];
            if (t == null) {
                throw new InvalidInput("missing input '" + spec.name() + "' for model '" + config.name()
                        + "'; expected inputs: " + names(config.inputs()));
            }
            if (t.dataType() != spec.dataType()) {
                throw new InvalidInput("input '" + spec.name() + "': expected datatype " + spec.dataType()
                        + ", got " + t.dataType());
            }
            long[] shape = t.shape();
            if (config.batched()) {
                if (shape.length == 0 || !spec.accepts(shape, 1)) {
                    throw shapeError(spec, shape, spec.shape().length == 0
                            ? "[batch]" : "[batch, " + Shapes.format(spec.shape()).substring(1));
                }
                if (shape[0] < 1 || shape[0] > config.maxBatchSize()) {
                    throw new InvalidInput("input '" + spec.name() + "': batch size " + shape[0]
                            + " is outside 1.." + config.maxBatchSize() + " (max_batch_size of model '"
                            + config.name() + "')");
                }
                if (batch >= 0 && shape[0] != batch) {
                    throw new InvalidInput("input '" + spec.name() + "' has batch size " + shape[0]
                            + " but input '" + batchFrom + "' has " + batch + "; all inputs need the same batch size");
                }
                batch = shape[0];
                batchFrom = spec.name();
            } else if (!spec.accepts(shape, 0)) {
                throw shapeError(spec, shape, Shapes.format(spec.shape()));
            }
            ValueRangeCheck.check(spec, t);
        }
        return List.of(bySpec);
    }

    /** @throws InvalidInput for a requested output the model does not have, naming the ones it has */
    static void checkRequestedOutputs(ModelConfig config, List<String> requested) {
        for (int r = 0; r < requested.size(); r++) {
            String name = requested.get(r);
            if (indexOf(config.outputs(), name) < 0) {
                throw new InvalidInput("model '" + config.name() + "' has no output '" + name + "'; its outputs are "
                        + config.outputs().stream().map(TensorSpec::name).toList());
            }
        }
    }

    /** The position of the spec named {@code name}, or -1. */
    private static int indexOf(List<TensorSpec> specs, String name) {
        for (int i = 0; i < specs.size(); i++) {
            if (specs.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    private static InvalidInput shapeError(TensorSpec spec, long[] shape, String expected) {
        return new InvalidInput("input '" + spec.name() + "': shape " + Shapes.format(shape)
                + " does not match the expected shape " + expected + " (-1 = any size)");
    }

    private static String names(List<TensorSpec> specs) {
        return specs.stream().map(s -> s.name() + " (" + s.dataType() + " " + Shapes.format(s.shape()) + ")")
                .collect(Collectors.joining(", "));
    }
}
