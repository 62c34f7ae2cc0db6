package dev.torchlight.repository.archive;

import dev.torchlight.config.ConfigException;
import dev.torchlight.config.ModelConfigParser;
import dev.torchlight.config.YamlSection;
import dev.torchlight.repository.ModelSource;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * torchlight's single-file model archive ({@value #EXTENSION}): a zip holding a model folder for
 * one version ({@code config.yaml}, {@code <version>/model.pt}) and a {@value #MANIFEST} naming
 * the model, the version, and the SHA-256 of every file. Unpacking goes through
 * {@link SafeZipExtractor} and then checks that the files are exactly those of the manifest, with
 * the checksums it gives, before anything is loaded.
 */
public final class ModelArchive {
    public static final String EXTENSION = ".tlar";
    public static final String MANIFEST = "MANIFEST.yaml";
    static final int FORMAT = 1;

    private ModelArchive() {}

    /**
     * Writes {@code <exportDir>/<modelName>.tlar}.
     *
     * @param config the model's config.yaml; validated before anything is written
     * @return the archive written
     * @throws ConfigException when the config is invalid or does not name {@code modelName}
     * @throws ArchiveException when a file cannot be read or the archive cannot be written
     */
    public static Path write(String modelName, long version, Path serializedFile, Path config, Path exportDir) {
        if (version < 1) {
            throw new ArchiveException("version must be a positive integer, got " + version);
        }
        ModelConfigParser.parse(config, modelName);
        Map<String, Path> files = new LinkedHashMap<>();
        files.put(ModelSource.CONFIG_FILE, config);
        // An AOTInductor package keeps its name, so the server knows it for one.
        String modelFile = serializedFile.getFileName().toString().endsWith(".pt2") ? ModelSource.PACKAGE_FILE
                : ModelSource.MODEL_FILE;
        files.put(version + "/" + modelFile, serializedFile);
        StringBuilder manifest = new StringBuilder()
                .append("format: ").append(FORMAT).append('\n')
                .append("model_name: '").append(modelName.replace("'", "''")).append("'\n")
                .append("version: ").append(version).append('\n')
                .append("files:\n");
        for (Map.Entry<String, Path> f : files.entrySet()) {
            manifest.append("  ").append(f.getKey()).append(": ").append(sha256(f.getValue())).append('\n');
        }
        try {
            Files.createDirectories(exportDir);
            Path target = exportDir.resolve(modelName + EXTENSION);
            Path temp = Files.createTempFile(exportDir, "." + modelName, ".tmp");
            try {
                try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(temp))) {
                    zip.putNextEntry(new ZipEntry(MANIFEST));
                    zip.write(manifest.toString().getBytes(StandardCharsets.UTF_8));
                    zip.closeEntry();
                    for (Map.Entry<String, Path> f : files.entrySet()) {
                        zip.putNextEntry(new ZipEntry(f.getKey()));
                        Files.copy(f.getValue(), zip);
                        zip.closeEntry();
                    }
                }
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(temp);
            }
            return target;
        } catch (IOException e) {
            throw new ArchiveException("cannot write the archive into " + exportDir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Unpacks {@code archive} into {@code target} (new or empty) and verifies it against its manifest.
     *
     * @return the model folder inside {@code target}, named as the manifest says
     * @throws ArchiveException when the archive is unsafe, over a limit, or its files do not match the
     *     manifest; what was unpacked is deleted again
     */
    public static ModelSource unpack(Path archive, Path target, SafeZipExtractor extractor) {
        boolean created = !Files.exists(target);
        try {
            return verify(archive, target, extractor.extract(archive, target));
        } catch (RuntimeException e) {
            // Only what this call created: an existing target the extractor refused is left alone.
            if (created) {
                delete(target);
            }
            throw e;
        }
    }

    private static ModelSource verify(Path archive, Path target, List<Path> written) {
        Path manifestFile = target.resolve(MANIFEST);
        if (!Files.isRegularFile(manifestFile)) {
            throw new ArchiveException(archive + ": no " + MANIFEST + "; not a torchlight archive (make one with"
                    + " 'torchlight archive')");
        }
        YamlSection manifest;
        String name;
        long version;
        Map<String, String> expected = new TreeMap<>();
        try {
            manifest = YamlSection.read(manifestFile);
            manifest.rejectUnknownKeys(Set.of("format", "model_name", "version", "files"));
            if (manifest.requireInt("format", 1, Integer.MAX_VALUE) != FORMAT) {
                throw manifest.error("format", "format " + FORMAT, manifest.raw("format"));
            }
            name = manifest.requireString("model_name");
            version = manifest.requireLong("version");
            YamlSection files = manifest.requireSection("files");
            for (String file : files.keys()) {
                expected.put(file, files.requireString(file));
            }
        } catch (ConfigException e) {
            throw new ArchiveException(archive + ": bad manifest: " + e.getMessage(), e);
        }
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}") || version < 1) {
            throw new ArchiveException(archive + ": manifest names model '" + name + "' version " + version
                    + "; expected a model name of letters, digits, '_', '.', '-' and a positive version");
        }
        String torchScript = version + "/" + ModelSource.MODEL_FILE;
        String aoti = version + "/" + ModelSource.PACKAGE_FILE;
        if (!expected.containsKey(ModelSource.CONFIG_FILE)
                || !(expected.containsKey(torchScript) || expected.containsKey(aoti))) {
            throw new ArchiveException(archive + ": the manifest must list " + ModelSource.CONFIG_FILE + " and "
                    + torchScript + " (or " + aoti + " for an AOTInductor package); it lists " + expected.keySet());
        }
        Set<String> present = new TreeSet<>();
        for (Path file : written) {
            String relative = target.relativize(file).toString().replace('\\', '/');
            if (!relative.equals(MANIFEST)) {
                present.add(relative);
            }
        }
        if (!present.equals(expected.keySet())) {
            throw new ArchiveException(archive + ": files " + present + " do not match the manifest's "
                    + expected.keySet());
        }
        for (Map.Entry<String, String> f : expected.entrySet()) {
            String actual = sha256(target.resolve(f.getKey()));
            if (!actual.equalsIgnoreCase(f.getValue())) {
                throw new ArchiveException(archive + ": checksum mismatch for " + f.getKey() + ": the manifest says "
                        + f.getValue() + ", the file has " + actual);
            }
        }
        return new ModelSource(name, target, Map.of(version, ModelSource.modelFile(target.resolve(String.valueOf(version))))
                .entrySet().stream().collect(TreeMap::new, (m, e) -> m.put(e.getKey(), e.getValue()), TreeMap::putAll));
    }

    static String sha256(Path file) {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
            in.transferTo(OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (IOException e) {
            throw new ArchiveException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** Deletes a directory tree, best effort. */
    public static void delete(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            walk.sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
