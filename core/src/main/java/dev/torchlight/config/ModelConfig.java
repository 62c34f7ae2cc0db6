package dev.torchlight.config;

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
        HandlerSpec handler) {

    public ModelConfig {
        handler = handler == null ? HandlerSpec.TENSOR : handler;
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(platform, "platform");
        engine = engine == null ? EngineSettings.DEFAULT : engine;
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        instanceGroups = instanceGroups == null || instanceGroups.isEmpty()
                ? List.of(InstanceGroup.oneCpu()) : List.copyOf(instanceGroups);
    }

    /** The same config for a model served under another name (registered with {@code model_name}). */
    public ModelConfig withName(String other) {
        return new ModelConfig(other, platform, maxBatchSize, inputs, outputs, dynamicBatching, instanceGroups,
                engine, handler);
    }

    /** The same config with other engine settings. */
    public ModelConfig withEngine(EngineSettings other) {
        return new ModelConfig(name, platform, maxBatchSize, inputs, outputs, dynamicBatching, instanceGroups, other,
                handler);
    }

    /** Whether the model is an AOTInductor package rather than TorchScript. */
    public boolean aoti() {
        return platform.equals(ModelConfigParser.AOTI);
    }

    /** Whether tensors carry a leading batch dimension in front of the declared shape. */
    public boolean batched() {
        return maxBatchSize > 0;
    }
}
