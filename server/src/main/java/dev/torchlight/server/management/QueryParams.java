package dev.torchlight.server.management;

import java.util.List;
import java.util.Map;

/**
 * A management call's query parameters, read as TorchServe reads them: a number that is absent,
 * empty or not a number is the parameter's default (never a 400), and a flag is true only when it
 * says {@code true}.
 */
final class QueryParams {
    private final Map<String, List<String>> values;

    QueryParams(Map<String, List<String>> values) {
        this.values = values;
    }

    /** The last value given, or null when absent. */
    String string(String name) {
        List<String> v = values.get(name);
        return v == null || v.isEmpty() ? null : v.get(v.size() - 1);
    }

    boolean has(String name) {
        return string(name) != null;
    }

    /** The value as an integer, or {@code fallback} when absent, empty or not an integer. */
    int integer(String name, int fallback) {
        String v = string(name);
        if (v == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(v.strip());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    /** {@code fallback} when absent, else whether the value is {@code true} (any case). */
    boolean flag(String name, boolean fallback) {
        String v = string(name);
        return v == null ? fallback : Boolean.parseBoolean(v.strip());
    }
}
