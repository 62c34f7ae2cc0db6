package dev.torchlight.bench.load;

/** A load run cannot start; the message says why and what to do, fit to show a user as is. */
public final class LoadBenchException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LoadBenchException(String message, Throwable cause) {
        super(message, cause);
    }

    public LoadBenchException(String message) {
        super(message);
    }
}
