package dev.torchlight.server.inference;

import dev.torchlight.api.ServingException;
import java.util.List;
import java.util.function.Function;

/**
 * A request's scheduling controls as a protocol carries them outside the tensors: HTTP headers
 * {@value #TIMEOUT_HEADER} (milliseconds) and {@value #PRIORITY_HEADER} (1 = highest). A v2 body's
 * {@code parameters.timeout} / {@code parameters.priority} win over these; the headers fill in what
 * the body does not set.
 *
 * @param priority the priority level, or {@link #UNSET}
 * @param timeoutMicros the timeout in microseconds, or {@link #UNSET}
 */
public record RequestControls(int priority, long timeoutMicros) {
    /** How long the request may wait before it runs, in milliseconds; 0 = the model's default. */
    public static final String TIMEOUT_HEADER = "X-Request-Timeout-Ms";
    /** The request's priority level, 1 being the highest; 0 = the model's default. */
    public static final String PRIORITY_HEADER = "X-Request-Priority";
    /** A control that is not set. */
    public static final int UNSET = -1;
    /** No control set. */
    public static final RequestControls NONE = new RequestControls(UNSET, UNSET);

    /** The longest timeout, about 292 years: as nanoseconds it still fits a long. */
    public static final long MAX_TIMEOUT_MICROS = Long.MAX_VALUE / 1000;

    private static final int MAX_DIGITS = 18; // fits a long

    /**
     * Reads the two headers.
     *
     * @param header every value of a header, by name (empty when absent)
     * @throws ServingException.InvalidInput naming the header when a value is not a non-negative
     *     integer in range or the header is sent more than once
     */
    public static RequestControls fromHeaders(Function<String, List<String>> header) {
        long priority = header(header, PRIORITY_HEADER, "a priority level (a non-negative integer, 1 = highest)");
        if (priority > Integer.MAX_VALUE) {
            throw new ServingException.InvalidInput(PRIORITY_HEADER + " is too large: " + priority);
        }
        long timeoutMs = header(header, TIMEOUT_HEADER, "a non-negative integer number of milliseconds");
        if (timeoutMs > MAX_TIMEOUT_MICROS / 1000) {
            throw new ServingException.InvalidInput(TIMEOUT_HEADER + " is too large: " + timeoutMs + " ms");
        }
        long timeoutMicros = timeoutMs == UNSET ? UNSET : timeoutMs * 1000;
        return priority == UNSET && timeoutMicros == UNSET ? NONE : new RequestControls((int) priority, timeoutMicros);
    }

    /** The priority for a request: this one when set, else 0 (the model's default). */
    public int priorityOrDefault() {
        return priority == UNSET ? 0 : priority;
    }

    /** The timeout for a request: this one when set, else 0 (the model's default). */
    public long timeoutMicrosOrDefault() {
        return timeoutMicros == UNSET ? 0 : timeoutMicros;
    }

    /** The header's value as a non-negative long, or {@link #UNSET} when absent. */
    private static long header(Function<String, List<String>> header, String name, String expected) {
        List<String> values = header.apply(name);
        if (values.isEmpty()) {
            return UNSET;
        }
        if (values.size() > 1) {
            throw new ServingException.InvalidInput(name + " is sent more than once; expected one value, "
                    + expected);
        }
        String value = values.get(0).strip();
        if (value.isEmpty() || !value.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new ServingException.InvalidInput(name + " must be " + expected + ", got '" + abbreviate(value)
                    + "'");
        }
        if (value.length() > MAX_DIGITS) {
            throw new ServingException.InvalidInput(name + " is too large: " + abbreviate(value));
        }
        return Long.parseLong(value);
    }

    private static String abbreviate(String value) {
        return value.length() <= 40 ? value : value.substring(0, 40) + "...";
    }
}
