package dev.torchlight.repository;

import java.nio.file.Path;
import java.util.Collections;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One model folder of the repository.
 *
 * @param name the folder's name, which is the model's name
 * @param directory the folder
 * @param versions model files by integer version, ascending
 */
public record ModelSource(String name, Path directory, NavigableMap<Long, Path> versions) {
    /** The file name of a TorchScript model inside a version folder. */
    public static final String MODEL_FILE = "model.pt";

    /** The model's config file name. */
    public static final String CONFIG_FILE = "config.yaml";

    public ModelSource {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(directory, "directory");
        versions = Collections.unmodifiableNavigableMap(new TreeMap<>(versions));
    }

    public Path configFile() {
        return directory.resolve(CONFIG_FILE);
    }
}
