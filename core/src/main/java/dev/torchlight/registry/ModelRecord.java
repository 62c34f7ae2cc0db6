package dev.torchlight.registry;

import dev.torchlight.repository.ModelSource;
import java.util.Map;

/**
 * What the lifecycle remembers of a model between loads, to tell what changed on disk.
 *
 * @param source the folder it was loaded from
 * @param configStamp {@link FileStamps stamp} of config.yaml at the last load
 * @param stamps stamp of the model file each known version was loaded from
 * @param rejected stamps of model files that failed to load, not retried until they change
 * @param instances instance counts set by scaling
 */
record ModelRecord(ModelSource source, String configStamp, Map<Long, String> stamps, Map<Long, String> rejected,
        InstanceCounts instances) {
    ModelRecord {
        stamps = Map.copyOf(stamps);
        rejected = Map.copyOf(rejected);
    }

    ModelRecord withConfigStamp(String stamp) {
        return new ModelRecord(source, stamp, stamps, rejected, instances);
    }

    ModelRecord without(long version) {
        Map<Long, String> rest = new java.util.HashMap<>(stamps);
        rest.remove(version);
        return new ModelRecord(source, configStamp, rest, rejected, instances.without(version));
    }

    /** Whether the folder differs from what this record was loaded from. */
    boolean changedOnDisk(ModelSource now) {
        if (!configStamp.equals(FileStamps.of(now.configFile()))) {
            return true;
        }
        for (Map.Entry<Long, java.nio.file.Path> v : now.versions().entrySet()) {
            String stamp = FileStamps.of(v.getValue());
            if (stamp.equals(rejected.get(v.getKey()))) {
                continue; // failed before; not retried until it changes
            }
            if (!stamp.equals(stamps.get(v.getKey()))) {
                return true;
            }
        }
        return !now.versions().keySet().containsAll(stamps.keySet());
    }
}
