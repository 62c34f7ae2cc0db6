package dev.torchlight.server.http;

import dev.torchlight.api.ServingException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that turns failures into HTTP statuses and {@code {"error": "..."}} bodies. The
 * message of a {@link ServingException} is shown to the client; anything else becomes
 * "internal error" with the details logged, never a stack trace in a reply.
 */
public final class HttpErrorMapper {
    private static final Logger log = LoggerFactory.getLogger(HttpErrorMapper.class);

    /** Seconds a client is asked to wait after an overloaded (503) answer. */
    static final String RETRY_AFTER_SECONDS = "1";

    private HttpErrorMapper() {}

    /**
     * How a failure is answered.
     *
     * @param status HTTP status
     * @param message the client-visible message
     * @param headers extra response headers (Retry-After, WWW-Authenticate)
     */
    public record HttpError(HttpResponseStatus status, String message, Map<String, String> headers) {
        public HttpError {
            headers = Map.copyOf(headers);
        }
    }

    /** Maps a failure (unwrapping completion wrappers) to its status, message and headers. */
    public static HttpError map(Throwable failure) {
        Throwable t = ServingException.unwrap(failure);
        if (!(t instanceof ServingException e)) {
            return new HttpError(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error", Map.of());
        }
        String message = e.getMessage() == null ? "" : e.getMessage();
        return switch (e) {
            case ServingException.InvalidInput x -> plain(HttpResponseStatus.BAD_REQUEST, message);
            case ServingException.NotFound x -> plain(HttpResponseStatus.NOT_FOUND, message);
            case ServingException.NotReady x -> plain(HttpResponseStatus.SERVICE_UNAVAILABLE, message);
            case ServingException.Overloaded x -> new HttpError(HttpResponseStatus.SERVICE_UNAVAILABLE, message,
                    Map.of(HttpHeaderNames.RETRY_AFTER.toString(), RETRY_AFTER_SECONDS));
            case ServingException.TimedOut x -> plain(HttpResponseStatus.GATEWAY_TIMEOUT, message);
            case ServingException.ResourceExhausted x -> plain(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, message);
            case ServingException.Unauthorized x -> x.credentialsPresent()
                    ? plain(HttpResponseStatus.FORBIDDEN, message)
                    // RFC 9110: a 401 carries a challenge.
                    : new HttpError(HttpResponseStatus.UNAUTHORIZED, message,
                            Map.of(HttpHeaderNames.WWW_AUTHENTICATE.toString(), "Bearer"));
            case ServingException.Internal x -> plain(HttpResponseStatus.INTERNAL_SERVER_ERROR, message);
        };
    }

    /** The reply for a failure; logs what the client does not see. */
    static HttpReply reply(Throwable failure) {
        Throwable t = ServingException.unwrap(failure);
        HttpError error = map(t);
        if (!(t instanceof ServingException)) {
            log.error("unexpected failure while serving a request", t);
        } else if (t instanceof ServingException.Internal) {
            log.error("internal error: {}", t.getMessage(), t.getCause() != null ? t.getCause() : t);
        }
        HttpReply reply = JsonReplies.error(error.status(), error.message());
        for (Map.Entry<String, String> header : error.headers().entrySet()) {
            reply = reply.withHeader(header.getKey(), header.getValue());
        }
        return reply;
    }

    private static HttpError plain(HttpResponseStatus status, String message) {
        return new HttpError(status, message, Map.of());
    }
}
