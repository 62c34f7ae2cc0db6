package dev.torchlight.bench.http;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The server a load run talks to: host, port and the path prefix every request path is put under
 * ({@code http://host:8080/prefix} sends {@code /prefix/v2/...}).
 *
 * @param url the base URL as given
 * @param host host name or address
 * @param port TCP port (80 when the URL has none)
 * @param basePath path prefix without a trailing slash; empty for none
 */
public record HttpTarget(URI url, String host, int port, String basePath) {

    public HttpTarget {
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(basePath, "basePath");
    }

    /**
     * Parses a base URL.
     *
     * @throws IllegalArgumentException when it is not an {@code http://host[:port][/path]} URL
     */
    public static HttpTarget of(URI url) {
        if (!"http".equalsIgnoreCase(url.getScheme()) || url.getHost() == null) {
            throw new IllegalArgumentException("--url must look like http://HOST:PORT, got '" + url + "'");
        }
        if (url.getRawQuery() != null || url.getRawFragment() != null) {
            throw new IllegalArgumentException("--url takes no query or fragment, got '" + url + "'");
        }
        String path = url.getRawPath() == null ? "" : url.getRawPath();
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        return new HttpTarget(url, url.getHost(), url.getPort() == -1 ? 80 : url.getPort(), path);
    }

    /** The {@code Host} header value. */
    public String hostHeader() {
        String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        return port == 80 ? h : h + ":" + port;
    }

    /** The request target for a path below the base, e.g. {@code /v2/health/live}. */
    public String path(String path) {
        return basePath + path;
    }

    /** The absolute URI of a path below the base. */
    public URI uri(String path) {
        return URI.create("http://" + hostHeader() + path(path));
    }

    /** Percent-encodes one path segment, such as a model name. */
    public static String segment(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    @Override
    public String toString() {
        return url.toString();
    }
}
