package dev.torchlight.server.http;

import dev.torchlight.api.ServingException;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.ArrayList;
import java.util.List;

/** Path parsing shared by the routers of every listener. */
public final class HttpPaths {
    private static final int MAX_VERSION_DIGITS = 18; // fits a long

    private HttpPaths() {}

    /**
     * The path's segments, each percent-decoded, empty ones dropped (so a trailing slash does not
     * matter); the query is ignored.
     *
     * @throws ServingException.InvalidInput for a malformed percent escape
     */
    public static List<String> segments(String uri) {
        String raw = new QueryStringDecoder(uri).rawPath();
        List<String> out = new ArrayList<>(6);
        // By hand rather than split(): this runs for every request.
        int start = 0;
        while (start <= raw.length()) {
            int end = raw.indexOf('/', start);
            if (end < 0) {
                end = raw.length();
            }
            if (end > start) {
                try {
                    out.add(QueryStringDecoder.decodeComponent(raw.substring(start, end)));
                } catch (IllegalArgumentException e) {
                    throw new ServingException.InvalidInput("malformed path: " + e.getMessage());
                }
            }
            start = end + 1;
        }
        return out;
    }

    /**
     * A version path segment.
     *
     * @throws ServingException.InvalidInput unless a non-negative decimal integer
     */
    public static long version(String segment) {
        if (segment.isEmpty() || segment.length() > MAX_VERSION_DIGITS
                || !segment.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new ServingException.InvalidInput(
                    "model version must be a non-negative integer, got '" + segment + "'");
        }
        return Long.parseLong(segment);
    }
}
