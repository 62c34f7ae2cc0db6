package dev.torchlight.bench.http;

/** Why a request got no HTTP answer; {@link #kind()} is the name errors are counted under. */
public enum Failure {
    /** The connection could not be opened (refused, unreachable, connect timeout). */
    CONNECT("connect"),
    /** No complete answer within the request timeout; the connection is closed. */
    TIMEOUT("timeout"),
    /** The connection closed (or broke) while the request was in flight. */
    CLOSED("closed"),
    /** The answer was not valid HTTP; the connection is closed. */
    BAD_RESPONSE("bad_response");

    private final String kind;

    Failure(String kind) {
        this.kind = kind;
    }

    /** The error kind as written in results, e.g. {@code connect}. */
    public String kind() {
        return kind;
    }
}
