package dev.torchlight.registry;

import dev.torchlight.config.ModelConfig;
import java.util.List;

/**
 * What the front ends may show about one model version.
 *
 * @param name model name
 * @param version this version
 * @param versions every version of the model known to the server, ascending
 * @param config the model's config; null when config.yaml could not be read
 * @param state lifecycle state
 * @param error why the version failed, or null
 */
public record ModelVersionInfo(
        String name, long version, List<Long> versions, ModelConfig config, ModelState state, String error) {

    public ModelVersionInfo {
        versions = List.copyOf(versions);
    }

    public boolean ready() {
        return state == ModelState.READY;
    }
}
