package dev.torchlight.repository;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One model folder of the repository.
 *
 * @param name the model's name: the one its config.yaml carries, unless it was registered under
 *     another one
 * @param directory the folder
 * @param versions model files by integer version, ascending
 * @param configName the name its config.yaml must carry (its folder's, or its archive's)
 */
public record ModelSource(String name, Path directory, NavigableMap<Long, Path> versions, String configName) {
    /** The file name of a TorchScript model inside a version folder. */
    public static final String MODEL_FILE = "model.pt";

    /** The file name of an AOTInductor package inside a version folder. */
    public static final String PACKAGE_FILE = "model.pt2";

    /** The model's config file name. */
    public static final String CONFIG_FILE = "config.yaml";

    public ModelSource {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(configName, "configName");
        Objects.requireNonNull(directory, "directory");
        versions = Collections.unmodifiableNavigableMap(new TreeMap<>(versions));
    }

    /**
     * A version folder's optional public name file: its first line names the version as clients may
     * (TorchServe's version strings such as {@code 1.0}), beside its number.
     */
    public static final String VERSION_NAME_FILE = "version.txt";

    /**
     * The model file of a version folder: its AOTInductor package ({@value #PACKAGE_FILE}) when it
     * has one, else its TorchScript file ({@value #MODEL_FILE}, which need not exist yet).
     */
    public static Path modelFile(Path versionFolder) {
        Path aoti = versionFolder.resolve(PACKAGE_FILE);
        return Files.isRegularFile(aoti) ? aoti : versionFolder.resolve(MODEL_FILE);
    }

    /** A model served under the name its config.yaml carries. */
    public ModelSource(String name, Path directory, NavigableMap<Long, Path> versions) {
        this(name, directory, versions, name);
    }

    public Path configFile() {
        return directory.resolve(CONFIG_FILE);
    }

    /** The same folder served under another model name. */
    public ModelSource named(String other) {
        return new ModelSource(other, directory, versions, configName);
    }
}
