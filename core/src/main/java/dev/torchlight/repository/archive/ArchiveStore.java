package dev.torchlight.repository.archive;

import dev.torchlight.repository.ModelSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where model archives are unpacked: one fresh folder per archive (and per change of it) under a
 * work directory owned by the server and deleted on {@link #close}. An archive that has not changed
 * since it was last unpacked is not unpacked again, so a polled repository does not reload it.
 * Folders of replaced archives are kept until close, because an instance being reloaded reads its
 * model file again.
 */
public final class ArchiveStore implements AutoCloseable {
    private record Unpacked(String stamp, ModelSource source) {}

    private final Path workDir;
    private final SafeZipExtractor extractor;
    private final Map<Path, Unpacked> unpacked = new HashMap<>();
    private final AtomicLong serial = new AtomicLong();

    public ArchiveStore(Path workDir, SafeZipExtractor extractor) {
        this.workDir = workDir;
        this.extractor = extractor;
    }

    /** A store in a new temporary directory with the default extraction limits. */
    public static ArchiveStore temporary() {
        try {
            return new ArchiveStore(Files.createTempDirectory("torchlight-archives-"),
                    new SafeZipExtractor(ExtractionLimits.defaults()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for unpacking model archives", e);
        }
    }

    /**
     * Unpacks and verifies {@code archive}, or returns the folder it was unpacked to before if it has
     * not changed since.
     *
     * @throws ArchiveException when the archive is unsafe or does not match its manifest
     */
    public synchronized ModelSource unpack(Path archive) {
        Path key = archive.toAbsolutePath().normalize();
        String stamp = stamp(key);
        Unpacked previous = unpacked.get(key);
        if (previous != null && previous.stamp().equals(stamp)) {
            return previous.source();
        }
        ModelSource source = ModelArchive.unpack(key, workDir.resolve(Long.toString(serial.incrementAndGet())), extractor);
        unpacked.put(key, new Unpacked(stamp, source));
        return source;
    }

    /** Where a downloaded archive may be stored before it is unpacked. */
    public Path newDownload() {
        try {
            Files.createDirectories(workDir);
            return Files.createTempFile(workDir, "download-", ModelArchive.EXTENSION);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a file for a downloaded archive in " + workDir, e);
        }
    }

    private static String stamp(Path file) {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            return a.size() + "@" + a.lastModifiedTime().toMillis() + "#" + a.fileKey();
        } catch (IOException e) {
            throw new ArchiveException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** Deletes every unpacked folder. */
    @Override
    public synchronized void close() {
        unpacked.clear();
        ModelArchive.delete(workDir);
    }
}
