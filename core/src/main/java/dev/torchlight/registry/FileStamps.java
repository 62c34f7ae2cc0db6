package dev.torchlight.registry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/** Size and modification time of a file, to notice that it changed without reading it. */
final class FileStamps {
    private FileStamps() {}

    /** The stamp of {@code file}; "missing" when it is not there. */
    static String of(Path file) {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            return a.size() + "@" + a.lastModifiedTime().toMillis() + (a.fileKey() != null ? "#" + a.fileKey() : "");
        } catch (IOException e) {
            return "missing";
        }
    }
}
