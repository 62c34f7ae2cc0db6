package dev.torchlight.server.mar;

/** A TorchServe archive torchlight cannot import; the message says why and what to do instead. */
public final class MarException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public MarException(String message) {
        super(message);
    }
}
