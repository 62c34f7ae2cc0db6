package dev.torchlight.scheduler;

import dev.torchlight.config.ConfigException;
import dev.torchlight.config.InstanceGroup;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.engine.Placement;
import java.util.ArrayList;
import java.util.List;

/**
 * Where each instance of a model version runs, computed in this one place from the model's
 * {@code instance_group} and the GPUs the engine sees. A CPU group places {@code count} instances on
 * the CPU, a MODEL group {@code count} instances where the model places itself; a GPU group places {@code count} instances on each of its {@code devices} (every GPU when
 * it lists none), taken round-robin over the devices so that consecutive instances land on different
 * GPUs. A model asking for GPUs that are not there fails with a reason instead of crashing or
 * silently running on the CPU.
 */
public final class InstancePlacement {
    private InstancePlacement() {}

    /**
     * @param gpuCount GPUs the engine sees
     * @return one placement per instance, group by group
     * @throws ConfigException naming the model, the group and what the engine has
     */
    public static List<Placement> of(ModelConfig config, int gpuCount) {
        List<Placement> placements = new ArrayList<>();
        for (int g = 0; g < config.instanceGroups().size(); g++) {
            InstanceGroup group = config.instanceGroups().get(g);
            if (group.kind() != InstanceGroup.Kind.GPU) {
                Placement where = group.kind() == InstanceGroup.Kind.CPU ? Placement.CPU : Placement.MODEL;
                for (int i = 0; i < group.count(); i++) {
                    placements.add(where);
                }
                continue;
            }
            List<Integer> devices = gpus(config, g, group, gpuCount);
            for (int i = 0; i < group.count(); i++) {
                for (int device : devices) {
                    placements.add(Placement.gpu(device));
                }
            }
        }
        if (placements.isEmpty()) {
            throw new ConfigException("model '" + config.name() + "': instance_group asks for no instance at all");
        }
        return List.copyOf(placements);
    }

    /**
     * {@code count} instances in the proportions of {@code placements}: its placements taken in turn,
     * from the first again once they run out, so that scaling a model that runs on the CPU and on two
     * GPUs keeps running on all three.
     *
     * @throws IllegalArgumentException when {@code count < 1}
     */
    public static List<Placement> scaled(List<Placement> placements, int count) {
        if (count < 1) {
            throw new IllegalArgumentException("instance count must be at least 1, got " + count);
        }
        List<Placement> scaled = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            scaled.add(placements.get(i % placements.size()));
        }
        return List.copyOf(scaled);
    }

    private static List<Integer> gpus(ModelConfig config, int g, InstanceGroup group, int gpuCount) {
        if (gpuCount <= 0) {
            throw new ConfigException("model '" + config.name() + "': instance_group kind GPU needs a GPU, but the"
                    + " engine sees none (this build runs libtorch on CPU)");
        }
        if (group.devices().isEmpty()) {
            List<Integer> all = new ArrayList<>(gpuCount);
            for (int d = 0; d < gpuCount; d++) {
                all.add(d);
            }
            return all;
        }
        for (int device : group.devices()) {
            if (device >= gpuCount) {
                throw new ConfigException("model '" + config.name() + "': instance_group entry " + (g + 1)
                        + " names GPU " + device + ", but the engine sees " + gpuCount + " GPU"
                        + (gpuCount == 1 ? " (device 0)" : "s (devices 0.." + (gpuCount - 1) + ")"));
            }
        }
        return group.devices();
    }
}
