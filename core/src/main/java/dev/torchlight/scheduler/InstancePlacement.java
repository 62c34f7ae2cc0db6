package dev.torchlight.scheduler;

import dev.torchlight.config.ConfigException;
import dev.torchlight.config.InstanceGroup;
import dev.torchlight.config.ModelConfig;

/**
 * Checks a model's {@code instance_group} against the devices the engine has, so a model asking for
 * GPUs that are not there fails to load with a reason instead of crashing or silently running on CPU.
 */
public final class InstancePlacement {
    private InstancePlacement() {}

    /**
     * @param gpuCount GPUs the engine sees
     * @throws ConfigException naming the model, the group and what the engine has
     */
    public static void check(ModelConfig config, int gpuCount) {
        if (config.instanceCount() < 1) {
            throw new ConfigException("model '" + config.name() + "': instance_group asks for no instance at all");
        }
        for (int g = 0; g < config.instanceGroups().size(); g++) {
            InstanceGroup group = config.instanceGroups().get(g);
            if (group.kind() != InstanceGroup.Kind.GPU) {
                continue;
            }
            if (gpuCount <= 0) {
                throw new ConfigException("model '" + config.name() + "': instance_group kind GPU needs a GPU, but the"
                        + " engine sees none (this build runs libtorch on CPU)");
            }
            for (int device : group.devices()) {
                if (device < 0 || device >= gpuCount) {
                    throw new ConfigException("model '" + config.name() + "': instance_group entry " + (g + 1)
                            + " names GPU " + device + ", but the engine sees " + gpuCount + " GPU"
                            + (gpuCount == 1 ? " (device 0)" : "s (devices 0.." + (gpuCount - 1) + ")"));
                }
            }
        }
    }
}
