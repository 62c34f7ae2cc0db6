package dev.torchlight.repository.archive;

/**
 * Bounds on what one archive may unpack to, so that a small hostile file cannot fill the disk
 * (zip bombs) or the inode table.
 *
 * @param maxEntries most entries (files and directories) in one archive
 * @param maxTotalBytes most bytes written for the whole archive, counted while writing
 * @param maxEntryBytes most bytes written for one entry
 */
public record ExtractionLimits(int maxEntries, long maxTotalBytes, long maxEntryBytes) {
    public ExtractionLimits {
        if (maxEntries < 1 || maxTotalBytes < 1 || maxEntryBytes < 1) {
            throw new IllegalArgumentException("extraction limits must be positive");
        }
    }

    /** 10 000 entries, 8 GiB in all, 4 GiB per entry: room for large models, not for bombs. */
    public static ExtractionLimits defaults() {
        return new ExtractionLimits(10_000, 8L << 30, 4L << 30);
    }
}
