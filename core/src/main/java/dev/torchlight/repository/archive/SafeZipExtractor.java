package dev.torchlight.repository.archive;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Unpacks a zip file (torchlight archives, TorchServe {@code .mar} files) into a new directory,
 * refusing anything that could write outside it or exhaust the disk: absolute paths, {@code ..}
 * segments, drive letters and backslashes, duplicate names, more entries or bytes than the limits.
 *
 * <p>Entries are read through the central directory ({@link ZipFile}), the same view every other
 * zip tool uses, and sizes are counted while writing rather than trusted from the headers. Only
 * regular files and directories are ever created: a symbolic-link entry becomes a plain file
 * holding the link text, so no link can point out of the target.
 */
public final class SafeZipExtractor {
    private final ExtractionLimits limits;

    public SafeZipExtractor(ExtractionLimits limits) {
        this.limits = limits;
    }

    /**
     * Extracts {@code archive} into {@code target}, which must not exist yet or be an empty
     * directory that is not a link.
     *
     * @return the regular files written, in archive order, as paths inside {@code target}
     * @throws ArchiveException when the archive is unreadable, unsafe or over a limit; whatever was
     *     written before the problem was found is deleted again
     */
    public List<Path> extract(Path archive, Path target) {
        prepareTarget(target);
        try {
            return extractInto(archive, target);
        } catch (RuntimeException e) {
            deleteContents(target);
            throw e;
        }
    }

    private List<Path> extractInto(Path archive, Path target) {
        List<Path> written = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        long total = 0;
        int entries = 0;
        try (ZipFile zip = new ZipFile(archive.toFile())) {
            Enumeration<? extends ZipEntry> all = zip.entries();
            while (all.hasMoreElements()) {
                ZipEntry entry = all.nextElement();
                if (++entries > limits.maxEntries()) {
                    throw new ArchiveException(archive + ": more than " + limits.maxEntries()
                            + " entries; expected at most that many");
                }
                String name = entry.getName();
                Path out = resolveSafely(archive, target, name);
                if (!seen.add(out.toString())) {
                    throw new ArchiveException(archive + ": entry '" + name + "' appears twice");
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(out);
                    continue;
                }
                Files.createDirectories(out.getParent());
                long budget = Math.min(limits.maxEntryBytes(), limits.maxTotalBytes() - total);
                total += copy(zip, entry, out, budget, archive);
                written.add(out);
            }
        } catch (ZipException e) {
            throw new ArchiveException(archive + ": not a valid zip archive (" + e.getMessage() + ")", e);
        } catch (FileAlreadyExistsException e) {
            throw new ArchiveException(archive + ": entry collides with an existing path " + e.getFile(), e);
        } catch (IOException e) {
            throw new ArchiveException(archive + ": cannot extract: " + e.getMessage(), e);
        }
        return written;
    }

    /** Copies one entry, failing as soon as it writes more than {@code budget} bytes. */
    private long copy(ZipFile zip, ZipEntry entry, Path out, long budget, Path archive) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        long count = 0;
        try (InputStream in = zip.getInputStream(entry);
                OutputStream os = Files.newOutputStream(out, StandardOpenOption.CREATE_NEW,
                        StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                count += n;
                if (count > budget) {
                    throw new ArchiveException(archive + ": entry '" + entry.getName()
                            + "' unpacks to more than the limit (" + limits.maxEntryBytes()
                            + " bytes per entry, " + limits.maxTotalBytes() + " bytes in all)");
                }
                os.write(buffer, 0, n);
            }
        }
        return count;
    }

    /** The entry's path inside {@code target}, or an error when the name could escape it. */
    static Path resolveSafely(Path archive, Path target, String name) {
        String why = unsafeReason(name);
        if (why != null) {
            throw new ArchiveException(archive + ": entry '" + name + "' is refused: " + why);
        }
        Path out = target.resolve(name).normalize();
        if (!out.startsWith(target) || out.equals(target)) {
            throw new ArchiveException(archive + ": entry '" + name + "' is refused: it resolves outside "
                    + target);
        }
        return out;
    }

    private static String unsafeReason(String name) {
        if (name.isEmpty()) {
            return "empty name";
        }
        if (name.indexOf('\0') >= 0) {
            return "NUL in the name";
        }
        if (name.indexOf('\\') >= 0) {
            return "backslash in the name (expected '/' separators)";
        }
        if (name.startsWith("/")) {
            return "absolute path (expected a path relative to the archive root)";
        }
        if (name.length() > 1 && name.charAt(1) == ':'
                && Character.isLetter(name.charAt(0))) {
            return "drive letter (expected a path relative to the archive root)";
        }
        for (String segment : name.split("/")) {
            if (segment.equals("..")) {
                return "'..' segment (expected no parent references)";
            }
        }
        if (name.length() > 4096) {
            return "name longer than 4096 characters";
        }
        return null;
    }

    private static void prepareTarget(Path target) {
        try {
            if (Files.isSymbolicLink(target)) {
                throw new ArchiveException("extraction target " + target + " is a symbolic link; expected a directory");
            }
            if (Files.exists(target)) {
                if (!Files.isDirectory(target)) {
                    throw new ArchiveException("extraction target " + target + " is a file; expected a directory");
                }
                try (var children = Files.list(target)) {
                    if (children.findAny().isPresent()) {
                        throw new ArchiveException("extraction target " + target + " is not empty");
                    }
                }
            }
            Files.createDirectories(target);
        } catch (IOException e) {
            throw new ArchiveException("cannot create extraction target " + target + ": " + e.getMessage(), e);
        }
    }

    private static void deleteContents(Path target) {
        try (var walk = Files.walk(target)) {
            walk.sorted((a, b) -> b.getNameCount() - a.getNameCount())
                    .filter(p -> !p.equals(target))
                    .forEach(p -> {
                        try {
                            Files.deleteIfExists(p);
                        } catch (IOException ignored) {
                            // best effort: the caller reports the original problem
                        }
                    });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
