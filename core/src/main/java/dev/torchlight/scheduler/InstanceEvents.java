package dev.torchlight.scheduler;

import java.util.List;

/** What a {@link ModelInstance} tells its scheduler: it can take work, or its health changed. */
interface InstanceEvents {
    /**
     * The instance finished its batch and is idle. Called on the instance's thread.
     *
     * @return its next batch when one is ready now (the instance is busy again), else null
     */
    List<PendingRequest> finished(ModelInstance instance);

    /** The instance became unhealthy (being reloaded, or stopped for good) or healthy again. */
    void healthChanged(ModelInstance instance);
}
