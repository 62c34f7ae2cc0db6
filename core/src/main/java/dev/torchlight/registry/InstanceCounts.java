package dev.torchlight.registry;

import java.util.HashMap;
import java.util.Map;

/**
 * How many instances scaling asked for: for every version of a model, and for single versions
 * (TorchServe's {@code PUT /models/{m}/{v}?min_worker=N}). Zero means the config's
 * {@code instance_group}.
 *
 * @param all the count for every version without one of its own; 0 for the config's
 * @param versions counts set for single versions
 */
record InstanceCounts(int all, Map<Long, Integer> versions) {
    /** The config's counts everywhere. */
    static final InstanceCounts CONFIG = new InstanceCounts(0, Map.of());

    InstanceCounts {
        versions = Map.copyOf(versions);
    }

    /** The count for {@code version}; 0 for the config's. */
    int of(long version) {
        return versions.getOrDefault(version, all);
    }

    /** {@code count} for every version, forgetting single versions' counts. */
    InstanceCounts everywhere(int count) {
        return new InstanceCounts(count, Map.of());
    }

    /** {@code count} for {@code version} only. */
    InstanceCounts with(long version, int count) {
        Map<Long, Integer> next = new HashMap<>(versions);
        next.put(version, count);
        return new InstanceCounts(all, next);
    }

    /** Without {@code version}'s own count (it was unloaded). */
    InstanceCounts without(long version) {
        Map<Long, Integer> next = new HashMap<>(versions);
        next.remove(version);
        return new InstanceCounts(all, next);
    }
}
