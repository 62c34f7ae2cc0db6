package dev.torchlight.repository.archive;

/** An archive is malformed, unsafe or over a limit. The message names the archive and the entry. */
public final class ArchiveException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ArchiveException(String message) {
        super(message);
    }

    public ArchiveException(String message, Throwable cause) {
        super(message, cause);
    }
}
