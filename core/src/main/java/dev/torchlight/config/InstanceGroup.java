package dev.torchlight.config;

import java.util.List;

/**
 * One entry of a model's {@code instance_group}: how many instances of the model run, and where.
 *
 * @param count instances in this group: on the CPU, on each of its GPUs, or (MODEL) where the model
 *     puts itself
 * @param kind CPU, GPU or MODEL
 * @param devices GPU device ordinals, each of which runs {@code count} instances; empty means every GPU
 *     (ignored for CPU)
 */
public record InstanceGroup(int count, Kind kind, List<Integer> devices) {

    /** Where an instance runs. */
    public enum Kind {
        CPU,
        GPU,
        /**
         * Loaded as saved, never moved (Triton's {@code KIND_MODEL}): for a model that places its own
         * parts, e.g. split across GPUs. Inputs are handed over on the CPU; the model moves them.
         */
        MODEL
    }

    public InstanceGroup {
        devices = List.copyOf(devices);
    }

    /** One CPU instance: the default when a config has no {@code instance_group}. */
    public static InstanceGroup oneCpu() {
        return new InstanceGroup(1, Kind.CPU, List.of());
    }
}
