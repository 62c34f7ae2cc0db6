package dev.torchlight.api;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * The errors a client can see. Each protocol maps this family to its status codes in one place;
 * the message is shown to the client, so it says what was wrong and what was expected.
 */
public abstract sealed class ServingException extends RuntimeException
        permits ServingException.InvalidInput,
                ServingException.NotFound,
                ServingException.NotReady,
                ServingException.Overloaded,
                ServingException.TimedOut,
                ServingException.ResourceExhausted,
                ServingException.Unauthorized,
                ServingException.Internal {

    private static final long serialVersionUID = 1L;

    ServingException(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * The failure a future reported, without the {@link CompletionException} and
     * {@link ExecutionException} wrappers the future added around it.
     */
    public static Throwable unwrap(Throwable failure) {
        Throwable current = failure;
        while ((current instanceof CompletionException || current instanceof ExecutionException)
                && current.getCause() != null) {
            current = current.getCause();
        }
        return current;
    }

    /** The request is malformed or does not match the model. */
    public static final class InvalidInput extends ServingException {
        private static final long serialVersionUID = 1L;

        public InvalidInput(String message) {
            super(message, null);
        }
    }

    /** No such model or version. */
    public static final class NotFound extends ServingException {
        private static final long serialVersionUID = 1L;

        public NotFound(String message) {
            super(message, null);
        }
    }

    /** The model exists but cannot serve now (loading, failed, draining). */
    public static final class NotReady extends ServingException {
        private static final long serialVersionUID = 1L;

        public NotReady(String message) {
            super(message, null);
        }
    }

    /** The queue is full; the client may retry later. */
    public static final class Overloaded extends ServingException {
        private static final long serialVersionUID = 1L;

        public Overloaded(String message) {
            super(message, null);
        }
    }

    /** The request's deadline passed before it ran. */
    public static final class TimedOut extends ServingException {
        private static final long serialVersionUID = 1L;

        public TimedOut(String message) {
            super(message, null);
        }
    }

    /** The request exceeds a size limit. */
    public static final class ResourceExhausted extends ServingException {
        private static final long serialVersionUID = 1L;

        public ResourceExhausted(String message) {
            super(message, null);
        }
    }

    /** Missing or wrong credentials. */
    public static final class Unauthorized extends ServingException {
        private static final long serialVersionUID = 1L;
        private final boolean credentialsPresent;

        /** @param credentialsPresent true when a credential was sent but is wrong (403), false when absent (401) */
        public Unauthorized(String message, boolean credentialsPresent) {
            super(message, null);
            this.credentialsPresent = credentialsPresent;
        }

        public boolean credentialsPresent() {
            return credentialsPresent;
        }
    }

    /** Anything the server or engine got wrong; the message is safe to show, the cause is logged. */
    public static final class Internal extends ServingException {
        private static final long serialVersionUID = 1L;

        public Internal(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
