package dev.torchlight.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/** One scrape of the Prometheus text format, read into series (name plus sorted labels) and values. */
final class Scrape {
    final String text;
    private final Map<String, Double> series = new HashMap<>();
    /** Every series by metric name: its labels and value. */
    private final Map<String, Map<Map<String, String>, Double>> byName = new HashMap<>();

    Scrape(String text) {
        this.text = text;
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.lastIndexOf(' ');
            String name;
            Map<String, String> labels = new TreeMap<>();
            if (brace >= 0 && brace < space) {
                name = line.substring(0, brace);
                String body = line.substring(brace + 1, line.lastIndexOf('}'));
                for (String pair : body.split(",(?=[a-zA-Z_]+=\")")) {
                    if (!pair.isBlank()) {
                        int eq = pair.indexOf('=');
                        labels.put(pair.substring(0, eq), canonical(pair.substring(0, eq),
                                pair.substring(eq + 2, pair.length() - 1)));
                    }
                }
            } else {
                name = line.substring(0, space);
            }
            double value = Double.parseDouble(line.substring(space + 1));
            series.put(key(name, labels), value);
            byName.computeIfAbsent(name, n -> new HashMap<>()).put(labels, value);
        }
    }

    /** Bucket bounds as Java writes the double ({@code 1.0E-4}), however the exposition spelled them. */
    static String canonical(String label, String value) {
        if (label.equals("le") && !value.equals("+Inf")) {
            return Double.toString(Double.parseDouble(value));
        }
        return value;
    }

    /** The value of a series, e.g. {@code value("torchlight_requests_total", "model", "mlp", ...)}; null if absent. */
    Double find(String name, String... labels) {
        Map<String, String> map = new TreeMap<>();
        for (int i = 0; i < labels.length; i += 2) {
            map.put(labels[i], canonical(labels[i], labels[i + 1]));
        }
        return series.get(key(name, map));
    }

    double value(String name, String... labels) {
        Double v = find(name, labels);
        assertThat(v).as("series %s %s in the scrape", name, String.join(",", labels)).isNotNull();
        return v;
    }

    /**
     * The series of one metric that carry {@code labels} (name, value, ...), summed by the value of
     * {@code by}, e.g. HTTP responses by code; empty when there are none.
     */
    Map<String, Double> sumBy(String name, String by, String... labels) {
        Map<String, Double> sums = new TreeMap<>();
        byName.getOrDefault(name, Map.of()).forEach((series, value) -> {
            for (int i = 0; i < labels.length; i += 2) {
                if (!labels[i + 1].equals(series.get(labels[i]))) {
                    return;
                }
            }
            if (series.containsKey(by)) {
                sums.merge(series.get(by), value, Double::sum);
            }
        });
        return sums;
    }

    boolean has(String name) {
        return series.keySet().stream().anyMatch(k -> k.equals(name) || k.startsWith(name + "{"));
    }

    private static String key(String name, Map<String, String> labels) {
        return labels.isEmpty() ? name : name + labels;
    }
}
