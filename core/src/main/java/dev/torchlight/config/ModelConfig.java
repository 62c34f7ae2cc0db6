package dev.torchlight.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A model's {@code config.yaml}, validated.
 *
 * @param name model name; equals the model's directory name
 * @param platform {@code torchscript} or {@code aoti} (an AOTInductor package, {@code model.pt2})
 * @param maxBatchSize largest batch the model takes; 0 means the model has no batch dimension
 * @param inputs declared inputs, in the order the model's forward takes them
 * @param outputs declared outputs, in the order the model returns them
 * @param dynamicBatching how requests are gathered into batches; null means each request runs alone
 * @param instanceGroups where and how many instances run; never empty
 * @param engine how the engine runs the model's instances (intra-op threads, freezing)
 * @param handler what turns client payloads into tensors and outputs into answers; tensors
 *     pass through unchanged by default
 * @param batchInputs inputs the server makes for each batch (offsets of ragged inputs), which the
 *     model takes after the declared inputs; empty for most models
 */
public record ModelConfig(
        String name,
        String platform,
        int maxBatchSize,
        List<TensorSpec> inputs,
        List<TensorSpec> outputs,
        DynamicBatching dynamicBatching,
        List<InstanceGroup> instanceGroups,
        EngineSettings engine,
        HandlerSpec handler,
        List<BatchInput> batchInputs) {

    public ModelConfig {
        batchInputs = batchInputs == null ? List.of() : List.copyOf(batchInputs);
        handler = handler == null ? HandlerSpec.TENSOR : handler;
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(platform, "platform");
        engine = engine == null ? EngineSettings.DEFAULT : engine;
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        instanceGroups = instanceGroups == null || instanceGroups.isEmpty()
                ? List.of(InstanceGroup.oneCpu()) : List.copyOf(instanceGroups);
    }

    /** A config without batch inputs. */
    public ModelConfig(String name, String platform, int maxBatchSize, List<TensorSpec> inputs, List<TensorSpec> outputs,
            DynamicBatching dynamicBatching, List<InstanceGroup> instanceGroups, EngineSettings engine,
            HandlerSpec handler) {
        this(name, platform, maxBatchSize, inputs, outputs, dynamicBatching, instanceGroups, engine, handler, List.of());
    }

    /** The same config for a model served under another name (registered with {@code model_name}). */
    public ModelConfig withName(String other) {
        return new ModelConfig(other, platform, maxBatchSize, inputs, outputs, dynamicBatching, instanceGroups,
                engine, handler, batchInputs);
    }

    /** The same config with other engine settings. */
    public ModelConfig withEngine(EngineSettings other) {
        return new ModelConfig(name, platform, maxBatchSize, inputs, outputs, dynamicBatching, instanceGroups, other,
                handler, batchInputs);
    }

    /** Whether the model is an AOTInductor package rather than TorchScript. */
    public boolean aoti() {
        return platform.equals(ModelConfigParser.AOTI);
    }

    /**
     * The tensors the model's forward takes, in order: the declared inputs, a ragged one as the 1-D
     * concatenation of a batch's rows (shape {@code [-1]}), then the batch inputs (shape {@code [-1]}).
     * The same as {@link #inputs} for a model with neither.
     */
    public List<TensorSpec> modelInputs() {
        if (batchInputs.isEmpty() && inputs.stream().noneMatch(TensorSpec::ragged)) {
            return inputs;
        }
        List<TensorSpec> specs = new ArrayList<>(inputs.size() + batchInputs.size());
        for (TensorSpec spec : inputs) {
            specs.add(spec.ragged() ? new TensorSpec(spec.name(), spec.dataType(), new long[] {-1}, true,
                    spec.valueRange()) : spec);
        }
        for (BatchInput b : batchInputs) {
            specs.add(new TensorSpec(b.name(), b.dataType(), new long[] {-1}));
        }
        return List.copyOf(specs);
    }

    /** Whether tensors carry a leading batch dimension in front of the declared shape. */
    public boolean batched() {
        return maxBatchSize > 0;
    }
}
