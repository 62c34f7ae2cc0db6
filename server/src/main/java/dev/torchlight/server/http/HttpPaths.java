package dev.torchlight.server.http;

import java.util.List;

/** Path parsing shared by the routers of every listener. */
public final class HttpPaths {
    private HttpPaths() {}

    /** The path's segments, each percent-decoded, empty ones dropped; the query is ignored. */
    public static List<String> segments(String uri) {
        return HttpRouter.segments(uri);
    }

    /**
     * A version path segment.
     *
     * @throws dev.torchlight.api.ServingException.InvalidInput unless a non-negative decimal integer
     */
    public static long version(String segment) {
        return HttpRouter.version(segment);
    }
}
