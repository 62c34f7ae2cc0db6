package dev.torchlight.server.auth;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Objects;
import java.util.Set;

/**
 * The inference key and the management key, generated at start-up (256 random bits each) and
 * written to a key file that only the server's user can read.
 *
 * @param inference opens the inference API when inference tokens are on
 * @param management opens the management API
 */
public record ApiKeys(String inference, String management) {
    private static final int KEY_BYTES = 32;
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");

    public ApiKeys {
        Objects.requireNonNull(inference, "inference");
        Objects.requireNonNull(management, "management");
    }

    /** Two fresh keys from {@code random}. */
    public static ApiKeys generate(SecureRandom random) {
        return new ApiKeys(key(random), key(random));
    }

    private static String key(SecureRandom random) {
        byte[] bytes = new byte[KEY_BYTES];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /**
     * Writes the keys as JSON to {@code file}, or to {@code keys.json} in a new owner-only
     * temporary directory when {@code file} is null. The file is created owner-only (0600) before
     * any key is written, then moved into place, so the keys are never readable by others.
     *
     * @return the file written
     */
    public Path write(Path file) {
        try {
            Path target;
            if (file != null) {
                target = file.toAbsolutePath();
            } else {
                Path dir = Files.createTempDirectory("torchlight-keys-", PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
                target = dir.resolve("keys.json");
                // Keys of a temporary directory live as long as the process (registered first, deleted last).
                dir.toFile().deleteOnExit();
                target.toFile().deleteOnExit();
            }
            Path dir = target.getParent();
            Files.createDirectories(dir);
            Path temp = Files.createTempFile(dir, ".keys-", ".tmp", PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            try {
                try (Writer w = Files.newBufferedWriter(temp, StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING)) {
                    w.write("{\n  \"inference\": \"" + inference + "\",\n  \"management\": \"" + management + "\"\n}\n");
                }
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(temp);
            }
            return target;
        } catch (FileAlreadyExistsException e) {
            throw new UncheckedIOException("cannot write the key file: " + e.getFile() + " exists", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the key file " + (file == null ? "" : file) + ": "
                    + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "ApiKeys[hidden]";
    }
}
