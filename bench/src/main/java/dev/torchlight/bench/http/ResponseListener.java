package dev.torchlight.bench.http;

/**
 * Hears how one request on an {@link HttpConnection} ended: exactly one of the two methods is
 * called, once, on the connection's event loop. Implementations keep per-request state in fields
 * so that sending allocates nothing for the callback.
 */
public interface ResponseListener {

    /**
     * A complete answer arrived.
     *
     * @param connection the connection it came on; reusable when {@code keepAlive}
     * @param status HTTP status code
     * @param keepAlive false when the server closes the connection after this answer
     */
    void onResponse(HttpConnection connection, int status, boolean keepAlive);

    /** No answer: the connection is closed or closing and must not be used again. */
    void onFailure(HttpConnection connection, Failure failure, Throwable cause);
}
