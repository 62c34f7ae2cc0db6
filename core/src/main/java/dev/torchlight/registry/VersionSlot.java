package dev.torchlight.registry;

import dev.torchlight.config.ModelConfig;
import dev.torchlight.metrics.ModelStats;
import dev.torchlight.scheduler.ModelScheduler;

/**
 * A loaded or failed version. {@code scheduler} and {@code stats} are null unless it loaded.
 *
 * @param stamp size and modification time of the model file it was loaded from
 */
record VersionSlot(long version, ModelState state, String error, ModelScheduler scheduler, ModelStats stats,
        ModelConfig config, String stamp) {

    /** The state now: a loaded version is not ready while none of its instances is healthy. */
    ModelState currentState() {
        if (state != ModelState.READY || scheduler.ready()) {
            return state;
        }
        return scheduler.closing() ? ModelState.UNLOADED : ModelState.LOADING;
    }

    String currentError() {
        return state == ModelState.READY && !scheduler.ready() ? scheduler.notReadyReason() : error;
    }
}
