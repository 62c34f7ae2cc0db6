package dev.torchlight.repository;

import dev.torchlight.config.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A directory laid out as {@code <repo>/<model>/config.yaml} and
 * {@code <repo>/<model>/<version>/model.pt}, versions being positive integers.
 */
public final class ModelRepository {
    private static final Logger LOG = LoggerFactory.getLogger(ModelRepository.class);

    private final Path root;

    public ModelRepository(Path root) {
        this.root = root;
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
        if (!Files.isDirectory(root)) {
            throw new ConfigException("model repository " + root.toAbsolutePath()
                    + ": not a directory; expected <repo>/<model>/config.yaml and <repo>/<model>/<version>/model.pt");
        }
        Set<String> names = new TreeSet<>();
        try (Stream<Path> children = Files.list(root)) {
            children.filter(Files::isDirectory)
                    .map(p -> p.getFileName().toString())
                    .filter(n -> !n.startsWith("."))
                    .forEach(names::add);
        } catch (IOException e) {
            throw new ConfigException("model repository " + root + ": cannot list: " + e.getMessage(), e);
        }
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
            sources.add(source(name));
        }
        return sources;
    }

    /** Reads one model folder's versions. */
    public ModelSource source(String name) {
        Path dir = root.resolve(name);
        TreeMap<Long, Path> versions = new TreeMap<>();
        try (Stream<Path> children = Files.list(dir)) {
            for (Path child : (Iterable<Path>) children::iterator) {
                String file = child.getFileName().toString();
                if (!Files.isDirectory(child)) {
                    continue;
                }
                Long version = parseVersion(file);
                if (version == null) {
                    LOG.warn("model {}: ignoring folder '{}': version folders are positive integers without leading zeros", name, file);
                    continue;
                }
                versions.put(version, child.resolve(ModelSource.MODEL_FILE));
            }
        } catch (IOException e) {
            LOG.warn("model {}: cannot list {}: {}", name, dir, e.getMessage());
        }
        return new ModelSource(name, dir, versions);
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
