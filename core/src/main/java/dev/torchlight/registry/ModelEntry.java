package dev.torchlight.registry;

import dev.torchlight.config.ModelConfig;
import dev.torchlight.repository.ModelSource;
import java.util.Map;
import java.util.NavigableMap;

/**
 * A model: its config (null if unreadable), its versions, and what a reload compares against.
 *
 * @param defaultVersion the version set as default, or null for the newest ready one
 * @param instances instance count set by scaling, or 0 for the config's
 * @param configStamp size and modification time of config.yaml at the last load
 * @param rejected model-file stamps per version that failed to load, not retried until they change
 * @param lastError why the last load of this model failed, or null
 */
record ModelEntry(String name, ModelConfig config, String error, NavigableMap<Long, VersionSlot> versions,
        Long defaultVersion, int instances, ModelSource source, String configStamp, Map<Long, String> rejected,
        String lastError) {

    ModelEntry withDefault(Long version) {
        return new ModelEntry(name, config, error, versions, version, instances, source, configStamp, rejected,
                lastError);
    }

    ModelEntry withVersions(NavigableMap<Long, VersionSlot> next) {
        return new ModelEntry(name, config, error, next, defaultVersion != null && next.containsKey(defaultVersion)
                ? defaultVersion : null, instances, source, configStamp, rejected, lastError);
    }

    ModelEntry withLastError(String why, String stamp) {
        return new ModelEntry(name, config, error, versions, defaultVersion, instances, source, stamp, rejected, why);
    }
}
