package dev.torchlight.engine;

/** The engine could not load or run a model. The message is safe to show to a client. */
public class EngineException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final boolean outOfMemory;

    public EngineException(String message, Throwable cause) {
        this(message, cause, false);
    }

    public EngineException(String message) {
        this(message, null, false);
    }

    /**
     * @param outOfMemory the run failed for lack of (device) memory: a smaller batch may succeed
     */
    public EngineException(String message, Throwable cause, boolean outOfMemory) {
        super(message, cause);
        this.outOfMemory = outOfMemory;
    }

    /** Whether a smaller batch might succeed where this one ran out of memory. */
    public boolean outOfMemory() {
        return outOfMemory;
    }
}
