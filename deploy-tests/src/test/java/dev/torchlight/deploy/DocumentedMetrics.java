package dev.torchlight.deploy;

import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** torchlight metric names: those docs/METRICS.md documents, and those a text uses. */
final class DocumentedMetrics {
    private static final Pattern METRIC = Pattern.compile("\\btorchlight_[a-z_]+");

    private DocumentedMetrics() {
    }

    static Set<String> documented() {
        return used(Manifests.read(Manifests.root().resolve("docs/METRICS.md")));
    }

    static Set<String> used(String text) {
        Set<String> names = new TreeSet<>();
        Matcher m = METRIC.matcher(text);
        while (m.find()) {
            names.add(m.group());
        }
        return names;
    }
}
