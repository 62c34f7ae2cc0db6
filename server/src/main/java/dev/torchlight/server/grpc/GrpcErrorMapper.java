package dev.torchlight.server.grpc;

import dev.torchlight.api.ServingException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that turns failures into gRPC statuses. The message of a
 * {@link ServingException} is the status description the client sees (the same text REST puts in
 * {@code {"error": ...}}); anything else becomes INTERNAL "internal error" with the details logged,
 * never a stack trace in a reply.
 */
public final class GrpcErrorMapper {
    private static final Logger log = LoggerFactory.getLogger(GrpcErrorMapper.class);

    private GrpcErrorMapper() {}

    /** Maps a failure (unwrapping completion wrappers) to its status and description. */
    public static Status status(Throwable failure) {
        Throwable t = ServingException.unwrap(failure);
        if (t instanceof StatusRuntimeException e) {
            return e.getStatus();
        }
        if (!(t instanceof ServingException e)) {
            return Status.INTERNAL.withDescription("internal error");
        }
        String message = e.getMessage() == null ? "" : e.getMessage();
        Status status = switch (e) {
            case ServingException.InvalidInput x -> Status.INVALID_ARGUMENT;
            case ServingException.NotFound x -> Status.NOT_FOUND;
            // Both are worth retrying later, which is what UNAVAILABLE tells a gRPC client.
            case ServingException.NotReady x -> Status.UNAVAILABLE;
            case ServingException.Overloaded x -> Status.UNAVAILABLE;
            case ServingException.TimedOut x -> Status.DEADLINE_EXCEEDED;
            case ServingException.ResourceExhausted x -> Status.RESOURCE_EXHAUSTED;
            case ServingException.Unauthorized x ->
                    x.credentialsPresent() ? Status.PERMISSION_DENIED : Status.UNAUTHENTICATED;
            case ServingException.Internal x -> Status.INTERNAL;
        };
        return status.withDescription(message);
    }

    /** The exception to hand to {@code onError}; logs what the client does not see. */
    static StatusRuntimeException toException(Throwable failure) {
        Throwable t = ServingException.unwrap(failure);
        if (!(t instanceof ServingException) && !(t instanceof StatusRuntimeException)) {
            log.error("unexpected failure while serving a gRPC call", t);
        } else if (t instanceof ServingException.Internal) {
            log.error("internal error: {}", t.getMessage(), t.getCause() != null ? t.getCause() : t);
        }
        return status(t).asRuntimeException();
    }
}
