package dev.torchlight.metrics;

import dev.torchlight.api.ServingException;

/**
 * How a request that reached a model version ended: answered, or refused or failed with one kind
 * of {@link ServingException}. The label is what metrics and logs show.
 */
public enum Outcome {
    SUCCESS("success"),
    INVALID_INPUT("invalid_input"),
    NOT_FOUND("not_found"),
    NOT_READY("not_ready"),
    OVERLOADED("overloaded"),
    TIMED_OUT("timed_out"),
    RESOURCE_EXHAUSTED("resource_exhausted"),
    UNAUTHORIZED("unauthorized"),
    INTERNAL("internal");

    private static final Outcome[] VALUES = values();

    private final String label;

    Outcome(String label) {
        this.label = label;
    }

    /** The lower-case name used as a metric label value. */
    public String label() {
        return label;
    }

    /** Every outcome, in declaration order (a shared array: do not modify). */
    static Outcome[] all() {
        return VALUES;
    }

    /** The outcome of a request that failed with {@code error}; anything but a ServingException is internal. */
    public static Outcome of(Throwable error) {
        if (!(ServingException.unwrap(error) instanceof ServingException s)) {
            return INTERNAL;
        }
        return switch (s) {
            case ServingException.InvalidInput x -> INVALID_INPUT;
            case ServingException.NotFound x -> NOT_FOUND;
            case ServingException.NotReady x -> NOT_READY;
            case ServingException.Overloaded x -> OVERLOADED;
            case ServingException.TimedOut x -> TIMED_OUT;
            case ServingException.ResourceExhausted x -> RESOURCE_EXHAUSTED;
            case ServingException.Unauthorized x -> UNAUTHORIZED;
            case ServingException.Internal x -> INTERNAL;
        };
    }
}
