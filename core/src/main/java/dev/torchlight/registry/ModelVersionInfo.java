package dev.torchlight.registry;

import dev.torchlight.config.ModelConfig;
import dev.torchlight.metrics.ModelStats;
import java.util.List;
import java.util.Objects;

/**
 * What the front ends may show about one model version.
 *
 * @param name model name
 * @param version this version
 * @param versions every version of the model known to the server, ascending
 * @param config the model's config; null when config.yaml could not be read
 * @param state lifecycle state
 * @param error why the version failed, or null
 * @param stats request and execution totals; all zeros for a version that never loaded
 */
public record ModelVersionInfo(
        String name,
        long version,
        List<Long> versions,
        ModelConfig config,
        ModelState state,
        String error,
        ModelStats.Snapshot stats) {

    public ModelVersionInfo {
        versions = List.copyOf(versions);
        Objects.requireNonNull(stats, "stats");
    }

    public boolean ready() {
        return state == ModelState.READY;
    }
}
