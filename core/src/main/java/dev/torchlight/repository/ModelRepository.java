package dev.torchlight.repository;

import dev.torchlight.config.ConfigException;
import dev.torchlight.config.YamlSection;
import dev.torchlight.repository.archive.ArchiveException;
import dev.torchlight.repository.archive.ArchiveStore;
import dev.torchlight.repository.archive.ModelArchive;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A directory laid out as {@code <repo>/<model>/config.yaml} and
 * {@code <repo>/<model>/<version>/model.pt}, versions being positive integers. With an
 * {@link ArchiveStore}, model archives ({@code <repo>/<model>.tlar}) are served too, unpacked there.
 * A single-model repository ({@link #singleModel}) is one model's folder instead, as KServe mounts
 * it at {@code /mnt/models}.
 */
public final class ModelRepository {
    private static final Logger LOG = LoggerFactory.getLogger(ModelRepository.class);

    private final Path root;
    private final ArchiveStore archives;
    private final String singleModel;

    public ModelRepository(Path root) {
        this(root, null);
    }

    /** @param archives where archives in the repository are unpacked; null ignores archives */
    public ModelRepository(Path root, ArchiveStore archives) {
        this(root, archives, null);
    }

    private ModelRepository(Path root, ArchiveStore archives, String singleModel) {
        this.root = root;
        this.archives = archives;
        this.singleModel = singleModel;
    }

    /**
     * {@code dir} as one model served under {@code name}: its config.yaml with version folders, or
     * with a bare {@code model.pt}/{@code model.pt2} beside it (served as version 1). The config's own
     * {@code name} need not match: the model is served under {@code name}, as one registered under
     * another name is.
     */
    public static ModelRepository singleModel(Path dir, String name) {
        return new ModelRepository(dir, null, name);
    }

    public Path root() {
        return root;
    }

    /**
     * Lists the model folders. Folders that are not models (hidden ones) are skipped; problems inside
     * a model folder are left for the loader to report against that model alone.
     *
     * @param only model names to list; empty lists every model
     * @throws ConfigException when the repository is missing or a name in {@code only} is absent
     */
    public List<ModelSource> scan(List<String> only) {
        if (singleModel != null) {
            if (!Files.isDirectory(root)) {
                throw new ConfigException("model directory " + root.toAbsolutePath() + ": not a directory; expected "
                        + ModelSource.CONFIG_FILE + " with version folders, or with " + ModelSource.MODEL_FILE
                        + " (or " + ModelSource.PACKAGE_FILE + ") beside it");
            }
            return List.of(source(singleModel));
        }
        if (!Files.isDirectory(root)) {
            throw new ConfigException("model repository " + root.toAbsolutePath()
                    + ": not a directory; expected <repo>/<model>/config.yaml and <repo>/<model>/<version>/model.pt (or model.pt2)");
        }
        Set<String> names = new TreeSet<>();
        java.util.Map<String, Path> archiveFiles = new java.util.TreeMap<>();
        try (Stream<Path> children = Files.list(root)) {
            for (Path child : (Iterable<Path>) children::iterator) {
                String file = child.getFileName().toString();
                if (file.startsWith(".")) {
                    continue;
                }
                if (Files.isDirectory(child)) {
                    names.add(file);
                } else if (archives != null && file.endsWith(ModelArchive.EXTENSION) && Files.isRegularFile(child)) {
                    archiveFiles.put(file.substring(0, file.length() - ModelArchive.EXTENSION.length()), child);
                }
            }
        } catch (IOException e) {
            throw new ConfigException("model repository " + root + ": cannot list: " + e.getMessage(), e);
        }
        archiveFiles.keySet().removeIf(n -> {
            if (names.contains(n)) {
                LOG.warn("model {}: both a folder and an archive; serving the folder", n);
                return true;
            }
            return false;
        });
        names.addAll(archiveFiles.keySet());
        if (!only.isEmpty()) {
            List<String> missing = only.stream().filter(n -> !names.contains(n)).toList();
            if (!missing.isEmpty()) {
                throw new ConfigException("models " + missing + " not found in model repository " + root.toAbsolutePath()
                        + "; it has " + names);
            }
            names.retainAll(Set.copyOf(only));
        }
        List<ModelSource> sources = new ArrayList<>();
        for (String name : names) {
            Path archive = archiveFiles.get(name);
            if (archive == null) {
                sources.add(source(name));
                continue;
            }
            try {
                ModelSource unpacked = archives.unpack(archive);
                if (!unpacked.name().equals(name)) {
                    LOG.error("archive {}: it holds model '{}'; rename the file to {}{}", archive, unpacked.name(),
                            unpacked.name(), ModelArchive.EXTENSION);
                    continue;
                }
                sources.add(unpacked);
            } catch (ArchiveException e) {
                LOG.error("model {}: cannot use archive {}: {}", name, archive, e.getMessage());
            }
        }
        return sources;
    }

    /** Reads one model folder's versions. */
    public ModelSource source(String name) {
        if (singleModel != null) {
            return single(name, root);
        }
        return folder(name, root.resolve(name));
    }

    /** The single model's folder: version folders, else a bare model file as version 1. */
    private ModelSource single(String name, Path dir) {
        ModelSource folder = folder(name, dir);
        TreeMap<Long, Path> versions = new TreeMap<>(folder.versions());
        if (versions.isEmpty()) {
            Path bare = ModelSource.modelFile(dir);
            if (Files.isRegularFile(bare)) {
                versions.put(1L, bare);
            }
        }
        return new ModelSource(name, dir, versions, configName(dir.resolve(ModelSource.CONFIG_FILE), name));
    }

    /** The name a config file carries, which it is checked against; {@code fallback} when unreadable. */
    private static String configName(Path configFile, String fallback) {
        try {
            return YamlSection.read(configFile).requireString("name");
        } catch (ConfigException e) {
            return fallback; // the load reports the broken config against the model
        }
    }

    /** Reads the versions of a model folder anywhere. */
    public static ModelSource folder(String name, Path dir) {
        TreeMap<Long, Path> versions = new TreeMap<>();
        try (Stream<Path> children = Files.list(dir)) {
            for (Path child : (Iterable<Path>) children::iterator) {
                String file = child.getFileName().toString();
                if (!Files.isDirectory(child)) {
                    continue;
                }
                Long version = parseVersion(file);
                if (version == null) {
                    // Folders of the model's own files (warm-up inputs, handler code) are normal; a name that
                    // looks like a version ("007", "0", "v2") is probably a mistake worth a warning.
                    if (looksLikeVersion(file)) {
                        LOG.warn("model {}: ignoring folder '{}': version folders are positive integers without leading zeros", name, file);
                    }
                    continue;
                }
                versions.put(version, ModelSource.modelFile(child));
            }
        } catch (IOException e) {
            LOG.warn("model {}: cannot list {}: {}", name, dir, e.getMessage());
        }
        return new ModelSource(name, dir, versions);
    }

    private static final Pattern LOOKS_LIKE_VERSION = Pattern.compile("[vV]?[0-9][0-9._-]*");

    /** Whether a folder that is not a version was probably meant to be one (and so deserves a warning). */
    static boolean looksLikeVersion(String folder) {
        return LOOKS_LIKE_VERSION.matcher(folder).matches();
    }

    private static Long parseVersion(String name) {
        // No leading zeros: "007" and "7" would otherwise both claim version 7.
        if (name.isEmpty() || name.length() > 18 || name.startsWith("0") || !name.chars().allMatch(Character::isDigit)) {
            return null;
        }
        long v = Long.parseLong(name);
        return v > 0 ? v : null;
    }
}
