package dev.torchlight.server.grpc;

import dev.torchlight.config.BatchInput;
import dev.torchlight.config.DynamicBatching;
import dev.torchlight.config.InstanceGroup;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.server.inference.TritonNames;
import inference.DataType;
import inference.ModelDynamicBatching;
import inference.ModelInput;
import inference.ModelInstanceGroup;
import inference.ModelOutput;
import inference.ModelQueuePolicy;
import java.util.Arrays;
import java.util.List;

/**
 * A model's config.yaml as Triton's {@code ModelConfig} message, for the {@code ModelConfig} RPC: the
 * same fields, names and values as the REST form of the extension (both name things through
 * {@link TritonNames}).
 */
final class GrpcModelConfig {
    private GrpcModelConfig() {}

    static inference.ModelConfig of(String name, ModelConfig config) {
        inference.ModelConfig.Builder b = inference.ModelConfig.newBuilder()
                .setName(name)
                .setPlatform(TritonNames.platform(config))
                .setBackend(TritonNames.BACKEND)
                .setMaxBatchSize(config.maxBatchSize());
        for (TensorSpec spec : config.inputs()) {
            b.addInput(ModelInput.newBuilder().setName(spec.name()).setDataType(dataType(spec))
                    .addAllDims(dims(spec)).setAllowRaggedBatch(spec.ragged()));
        }
        for (BatchInput batchInput : config.batchInputs()) {
            b.addBatchInput(inference.BatchInput.newBuilder()
                    .setKind(inference.BatchInput.Kind.valueOf(batchInput.kind().name()))
                    .addTargetName(batchInput.name())
                    .setDataType(DataType.valueOf(TritonNames.dataType(batchInput.dataType())))
                    .addSourceInput(batchInput.sourceInput()));
        }
        for (TensorSpec spec : config.outputs()) {
            b.addOutput(ModelOutput.newBuilder().setName(spec.name()).setDataType(dataType(spec))
                    .addAllDims(dims(spec)));
        }
        if (config.dynamicBatching() != null) {
            b.setDynamicBatching(batching(config.dynamicBatching()));
        }
        List<InstanceGroup> groups = config.instanceGroups();
        for (int i = 0; i < groups.size(); i++) {
            InstanceGroup group = groups.get(i);
            b.addInstanceGroup(ModelInstanceGroup.newBuilder()
                    .setName(TritonNames.groupName(name, i))
                    .setKind(ModelInstanceGroup.Kind.valueOf(TritonNames.kind(group)))
                    .setCount(group.count())
                    .addAllGpus(group.devices()));
        }
        return b.build();
    }

    private static DataType dataType(TensorSpec spec) {
        return DataType.valueOf(TritonNames.dataType(spec));
    }

    private static List<Long> dims(TensorSpec spec) {
        return Arrays.stream(spec.shape()).boxed().toList();
    }

    private static ModelDynamicBatching batching(DynamicBatching d) {
        ModelDynamicBatching.Builder b = ModelDynamicBatching.newBuilder()
                .addAllPreferredBatchSize(d.preferredBatchSizes())
                .setMaxQueueDelayMicroseconds(d.maxQueueDelayMicros());
        if (d.priorityLevels() > 0) {
            b.setPriorityLevels(d.priorityLevels()).setDefaultPriorityLevel(d.defaultPriorityLevel());
        }
        if (d.maxQueueSize() > 0 || d.defaultTimeoutMs() > 0) {
            b.setDefaultQueuePolicy(ModelQueuePolicy.newBuilder()
                    .setDefaultTimeoutMicroseconds(d.defaultTimeoutMs() * 1000)
                    .setMaxQueueSize(d.maxQueueSize()));
        }
        return b.build();
    }
}
