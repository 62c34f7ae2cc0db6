package dev.torchlight.engine;

import java.util.Objects;

/** The engine could not load or run a model. The message is safe to show to a client. */
public class EngineException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What kind of failure it was, which decides what the scheduler does next. */
    public enum Kind {
        /** The model or its input failed: only this batch's requests fail. */
        FAILED,
        /** Out of (device) memory: a smaller batch may succeed. */
        OUT_OF_MEMORY,
        /**
         * The device's context is broken (a device-side assert, an illegal address): nothing more runs
         * on this instance until it is loaded again.
         */
        DEVICE_FAULT
    }

    private final Kind kind;

    public EngineException(String message, Throwable cause) {
        this(message, cause, Kind.FAILED);
    }

    public EngineException(String message) {
        this(message, null, Kind.FAILED);
    }

    public EngineException(String message, Throwable cause, Kind kind) {
        super(message, cause);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    public Kind kind() {
        return kind;
    }

    /** Whether a smaller batch might succeed where this one ran out of memory. */
    public boolean outOfMemory() {
        return kind == Kind.OUT_OF_MEMORY;
    }

    /** Whether the instance must be loaded again before it runs anything. */
    public boolean deviceFault() {
        return kind == Kind.DEVICE_FAULT;
    }
}
