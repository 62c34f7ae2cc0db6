package dev.torchlight.engine.libtorch;

import dev.torchlight.engine.EngineException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Properties;

/**
 * Where the engine library ({@code libtorchlight_engine.so}) is, and which libtorch it was built
 * against.
 *
 * <p>In order: the system property {@value #PROPERTY}, else the environment variable
 * {@value #ENVIRONMENT} (a library built elsewhere, e.g. against a CUDA libtorch, with
 * {@code engine-libtorch/src/main/native/build.sh}), else the copy the build put on the class path.
 * A class path copy inside a jar is extracted once into {@code ~/.cache/torchlight/engine/<hash>/},
 * since the dynamic loader reads files only. The library finds libtorch through the absolute
 * search path it was linked with ({@code libtorch.dir} in the {@code libtorch.properties} beside it);
 * that directory is checked before loading, so a moved or deleted libtorch is a clear message, not
 * a loader error.
 *
 * @param library the shared library to load
 * @param libtorchDir the libtorch lib directory it was linked against; null when unknown (a library
 *     given by path without its properties file)
 * @param libtorchVersion the libtorch version it was built against, or null when unknown
 */
record LibraryFile(Path library, Path libtorchDir, String libtorchVersion) {
    /** System property naming a library file to use instead of the bundled one. */
    static final String PROPERTY = "torchlight.engine.library";
    /** Environment variable naming a library file, when the system property is not set. */
    static final String ENVIRONMENT = "TORCHLIGHT_ENGINE_LIBRARY";

    static final String LIBRARY_NAME = "libtorchlight_engine.so";
    static final String PROPERTIES_NAME = "libtorch.properties";
    private static final String RESOURCE_DIR = "linux-x86_64/";

    /**
     * Finds the library as described above.
     *
     * @throws EngineException when none is configured or bundled, or the configured one is missing
     */
    static LibraryFile locate() {
        String configured = System.getProperty(PROPERTY);
        String source = "system property " + PROPERTY;
        if (configured == null || configured.isBlank()) {
            configured = System.getenv(ENVIRONMENT);
            source = "environment variable " + ENVIRONMENT;
        }
        if (configured != null && !configured.isBlank()) {
            Path file = Path.of(configured).toAbsolutePath();
            if (!Files.isRegularFile(file)) {
                throw new EngineException("the engine library " + file + " named by " + source + " does not exist");
            }
            return withProperties(file, file.resolveSibling(PROPERTIES_NAME));
        }
        return bundled();
    }

    /** The libtorch directory is there (or unknown); throws a message saying how to fix it otherwise. */
    void checkLibtorch() {
        if (libtorchDir != null && !Files.isDirectory(libtorchDir)) {
            throw new EngineException("the engine library " + library + " was built against libtorch "
                    + libtorchVersion + " in " + libtorchDir + ", which no longer exists; recreate it with"
                    + " tools/python-env.sh, or rebuild the engine against another libtorch (LIBTORCH=<dir>"
                    + " ./mvnw package; see docs/ENGINE.md)");
        }
    }

    private static LibraryFile bundled() {
        URL library = LibraryFile.class.getResource(RESOURCE_DIR + LIBRARY_NAME);
        URL properties = LibraryFile.class.getResource(RESOURCE_DIR + PROPERTIES_NAME);
        if (library == null || properties == null) {
            throw new EngineException("this build carries no engine library (" + RESOURCE_DIR + LIBRARY_NAME
                    + " is not on the class path); build it with ./mvnw package, or name one with -D"
                    + PROPERTY + "=<path>");
        }
        try {
            if (library.getProtocol().equals("file")) {
                return withProperties(Path.of(library.toURI()), Path.of(properties.toURI()));
            }
            return extract(library, properties);
        } catch (IOException e) {
            throw new EngineException("cannot extract the engine library from " + library + ": " + e.getMessage(), e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Copies the library and its properties into a directory named by the library's content hash. */
    private static LibraryFile extract(URL library, URL properties) throws IOException {
        byte[] bytes;
        try (InputStream in = library.openStream()) {
            bytes = in.readAllBytes();
        }
        Path dir = cacheRoot().resolve(sha256(bytes).substring(0, 16));
        Path target = dir.resolve(LIBRARY_NAME);
        Path props = dir.resolve(PROPERTIES_NAME);
        if (!Files.isRegularFile(target) || Files.size(target) != bytes.length || !Files.isRegularFile(props)) {
            Files.createDirectories(dir);
            // Written beside and renamed, so a concurrent start never loads a half-written file.
            Path temp = Files.createTempFile(dir, LIBRARY_NAME, ".part");
            Files.write(temp, bytes);
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Path tempProps = Files.createTempFile(dir, PROPERTIES_NAME, ".part");
            try (InputStream in = properties.openStream()) {
                Files.copy(in, tempProps, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.move(tempProps, props, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        return withProperties(target, props);
    }

    private static Path cacheRoot() {
        String cache = System.getenv("XDG_CACHE_HOME");
        Path base = cache != null && !cache.isBlank() ? Path.of(cache)
                : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("torchlight").resolve("engine");
    }

    private static LibraryFile withProperties(Path library, Path propertiesFile) {
        if (!Files.isRegularFile(propertiesFile)) {
            return new LibraryFile(library, null, null);
        }
        Properties properties = new Properties();
        try (InputStream in = Files.newInputStream(propertiesFile)) {
            properties.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String dir = properties.getProperty("libtorch.dir");
        return new LibraryFile(library, dir == null ? null : Path.of(dir), properties.getProperty("libtorch.version"));
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
