package dev.torchlight.registry;

/**
 * A request's headers (HTTP headers, gRPC metadata) as routing reads them, by case-insensitive name.
 * Protocol-neutral, so that the core routes without knowing which protocol carried the request.
 */
@FunctionalInterface
public interface RequestHeaders {
    /** A request without headers. */
    RequestHeaders NONE = name -> null;

    /** The header's first value, or null when the request does not send it. */
    String get(String name);
}
