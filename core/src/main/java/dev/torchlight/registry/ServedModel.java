package dev.torchlight.registry;

import dev.torchlight.api.ServingException;
import dev.torchlight.config.ModelConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What the server routes for one model at one moment: its versions, the default one and why the
 * model's last load failed. Immutable: a change (a swap, a new default) publishes a new one, so a
 * request sees one consistent view.
 *
 * @param name the model's name
 * @param config the model's config; null when config.yaml could not be read
 * @param versions the known versions, loaded or failed, ascending
 * @param defaultVersion the version set as default, or null for the newest ready one
 * @param error why the model's last load or reload failed, or null
 * @param traffic how requests without a version are split among versions, or null to send them all
 *     to the default version; weights of versions the model no longer has are dropped
 */
public record ServedModel(String name, ModelConfig config, NavigableMap<Long, ServedVersion> versions,
        Long defaultVersion, String error, TrafficSplit traffic) {

    public ServedModel {
        Objects.requireNonNull(name, "name");
        versions = Collections.unmodifiableNavigableMap(new TreeMap<>(versions));
        if (defaultVersion != null && !versions.containsKey(defaultVersion)) {
            defaultVersion = null;
        }
        if (traffic != null) {
            traffic = traffic.restrictedTo(versions.keySet());
        }
    }

    /** A model whose requests without a version all go to the default version. */
    public ServedModel(String name, ModelConfig config, NavigableMap<Long, ServedVersion> versions,
            Long defaultVersion, String error) {
        this(name, config, versions, defaultVersion, error, null);
    }

    /**
     * The requested version, or the default one.
     *
     * @param version explicit version, or null for the default: the one set as default, else the
     *     newest ready one, else the newest; for a model without versions, a failed stand-in
     *     (version 0) carrying the model's error
     * @throws ServingException.NotFound for a version the model does not have
     */
    public ServedVersion version(Long version) {
        if (version == null) {
            return defaultServed();
        }
        ServedVersion served = versions.get(version);
        if (served == null) {
            throw new ServingException.NotFound("model '" + name + "' has no version " + version + "; versions: "
                    + versions.keySet());
        }
        return served;
    }

    /**
     * The version a request goes to: the one it names, else one by the {@linkplain #traffic() split}
     * among the weighted versions ready now, else the default one.
     *
     * @param version explicit version (never split), or null
     * @param headers the request's headers, where the split's sticky header is read
     * @throws ServingException.NotFound for a version the model does not have
     */
    public ServedVersion route(Long version, RequestHeaders headers) {
        if (version != null || traffic == null) {
            return version(version);
        }
        String key = traffic.stickyHeader() == null ? null : headers.get(traffic.stickyHeader());
        long point = key == null ? ThreadLocalRandom.current().nextLong() : TrafficSplit.hash(key);
        Long chosen = traffic.pick(this::versionReady, point);
        return chosen == null ? defaultServed() : versions.get(chosen);
    }

    /** The split's weights with versions that are not ready at 0; empty without a split. */
    public NavigableMap<Long, Integer> effectiveTraffic() {
        return traffic == null ? Collections.emptyNavigableMap() : traffic.effective(this::versionReady);
    }

    private boolean versionReady(long version) {
        ServedVersion served = versions.get(version);
        return served != null && served.ready();
    }

    /**
     * The version a TorchServe-style path names: by its public name ({@code 1.0}), else by its number.
     *
     * @throws ServingException.NotFound when no version has that name or number
     */
    public ServedVersion versionNamed(String text) {
        for (ServedVersion v : versions.values()) {
            if (v.name().equals(text)) {
                return v;
            }
        }
        if (!text.isEmpty() && text.length() <= 18 && text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            ServedVersion byNumber = versions.get(Long.parseLong(text));
            if (byNumber != null) {
                return byNumber;
            }
        }
        throw new ServingException.NotFound("model '" + name + "' has no version '" + text + "'; versions: "
                + versionNames());
    }

    /** Every version's public name, by ascending number. */
    public List<String> versionNames() {
        return versions.values().stream().map(ServedVersion::name).toList();
    }

    /** The version requests without one go to ({@link #version(Long) version(null)}). */
    public ServedVersion defaultServed() {
        if (defaultVersion != null) {
            return versions.get(defaultVersion);
        }
        // The newest version, when ready (as it nearly always is), without the views a descending walk makes.
        ServedVersion newest = versions.isEmpty() ? null : versions.get(versions.lastKey());
        if (newest != null && newest.ready()) {
            return newest;
        }
        for (ServedVersion v : versions.descendingMap().values()) {
            if (v.ready()) {
                return v;
            }
        }
        return versions.isEmpty() ? new FailedVersion(name, 0, "0", config, error) : versions.lastEntry().getValue();
    }

    /** Whether the default version serves. */
    public boolean ready() {
        return !versions.isEmpty() && defaultServed().ready();
    }

    /** Every version, or the failed stand-in when there are none: what listings show. */
    public List<ServedVersion> listed() {
        return versions.isEmpty() ? List.of(defaultServed()) : List.copyOf(versions.values());
    }

    /** The same model with another default version (null: the newest ready one). */
    public ServedModel withDefault(Long version) {
        return new ServedModel(name, config, versions, version, error, traffic);
    }

    /** The same model with another traffic split (null: every request without a version to the default). */
    public ServedModel withTraffic(TrafficSplit split) {
        return new ServedModel(name, config, versions, defaultVersion, error, split);
    }

    /** The same model with {@code version} gone. */
    public ServedModel without(long version) {
        NavigableMap<Long, ServedVersion> rest = new TreeMap<>(versions);
        rest.remove(version);
        return new ServedModel(name, config, rest, defaultVersion, error, traffic);
    }

    /** The version numbers, ascending. */
    public List<Long> versionNumbers() {
        return new ArrayList<>(versions.keySet());
    }
}
