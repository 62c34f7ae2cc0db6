package dev.torchlight.registry;

import dev.torchlight.metrics.ModelStats;
import dev.torchlight.scheduler.InstanceStatus;
import java.util.List;

/**
 * A version that runs nothing (it failed to load, or its first load is still running): no
 * instances, no queue, no statistics, nothing to drain, so it can always be held.
 */
interface StandInVersion extends ServedVersion {
    @Override
    default List<InstanceStatus> instances() {
        return List.of();
    }

    @Override
    default int queued() {
        return 0;
    }

    @Override
    default ModelStats.Snapshot stats() {
        return ModelStats.Snapshot.EMPTY;
    }

    @Override
    default boolean hold() {
        return true;
    }

    @Override
    default void release() {
        // nothing held
    }
}
