package dev.torchlight.registry;

import dev.torchlight.api.ServingException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.LongPredicate;

/**
 * How requests for a model's default version are split among its versions (a canary): a weight
 * per version and, optionally, a request header whose value keeps one caller on one version.
 * Requests that name a version are never split. Immutable: a change publishes a new
 * {@link ServedModel} carrying a new split.
 *
 * <p>A request falls on a point in {@code [0, total)}, the total being the sum of the weights of the
 * versions that are ready at that moment: a version that is not ready counts as weight 0 until it
 * recovers, without any state kept for it. The point comes from a stable 64-bit hash of the sticky
 * header's value when the request sends it (so a caller stays on one version while the weights and
 * readiness stay the same), else from a random draw.
 *
 * @param weights weight per version number, ascending; each from 0 to {@value #MAX_WEIGHT}, at least
 *     one positive
 * @param stickyHeader the header whose value picks the version (lower case), or null for a random
 *     draw per request
 */
public record TrafficSplit(NavigableMap<Long, Integer> weights, String stickyHeader) {
    /** The largest weight a version can have. */
    public static final int MAX_WEIGHT = 1_000_000;
    /** The longest sticky header name. */
    public static final int MAX_HEADER_LENGTH = 100;

    public TrafficSplit {
        weights = Collections.unmodifiableNavigableMap(new TreeMap<>(weights));
        boolean anyPositive = false;
        for (Map.Entry<Long, Integer> e : weights.entrySet()) {
            int weight = e.getValue();
            if (weight < 0 || weight > MAX_WEIGHT) {
                throw new ServingException.InvalidInput("the weight of version " + e.getKey() + " is " + weight
                        + "; expected an integer from 0 to " + MAX_WEIGHT);
            }
            anyPositive |= weight > 0;
        }
        if (!anyPositive) {
            throw new ServingException.InvalidInput("no version has a positive weight " + weights
                    + "; expected at least one weight above 0, e.g. {\"1\": 90, \"2\": 10}"
                    + " (to route by the default version again, clear the split instead)");
        }
        if (stickyHeader != null) {
            stickyHeader = checkedHeader(stickyHeader);
        }
    }

    /**
     * A split for {@code model} from weights keyed by version name ({@code 1.0}) or number.
     *
     * @param weights weight per version name or number
     * @param stickyHeader the header whose value picks the version, or null
     * @throws ServingException.InvalidInput naming the model and what is wrong: no weights, a version
     *     the model does not have, a version named twice, a weight out of range, none positive, a
     *     header name that is not a plain text header
     */
    public static TrafficSplit of(ServedModel model, Map<String, Integer> weights, String stickyHeader) {
        String owner = "traffic for model '" + model.name() + "'";
        if (weights.isEmpty()) {
            throw new ServingException.InvalidInput(owner + " names no version; expected weights by version,"
                    + " e.g. {\"1\": 90, \"2\": 10}");
        }
        Map<Long, Integer> byNumber = new HashMap<>();
        Map<Long, String> namedAs = new HashMap<>();
        for (Map.Entry<String, Integer> e : weights.entrySet()) {
            long version;
            try {
                version = model.versionNamed(e.getKey()).version();
            } catch (ServingException.NotFound notFound) {
                throw new ServingException.InvalidInput(owner + " names version '" + e.getKey()
                        + "', which it does not have; expected one of its versions " + model.versionNames());
            }
            String earlier = namedAs.put(version, e.getKey());
            if (earlier != null) {
                throw new ServingException.InvalidInput(owner + " names version " + version + " twice ('" + earlier
                        + "' and '" + e.getKey() + "'); expected each version once");
            }
            byNumber.put(version, e.getValue());
        }
        try {
            return new TrafficSplit(new TreeMap<>(byNumber), stickyHeader);
        } catch (ServingException.InvalidInput e) {
            throw new ServingException.InvalidInput(owner + ": " + e.getMessage());
        }
    }

    /**
     * The weights with every version that is not ready at 0: what routing uses now.
     *
     * @param ready whether a version is ready now
     */
    public NavigableMap<Long, Integer> effective(LongPredicate ready) {
        NavigableMap<Long, Integer> effective = new TreeMap<>();
        weights.forEach((version, weight) -> effective.put(version, ready.test(version) ? weight : 0));
        return Collections.unmodifiableNavigableMap(effective);
    }

    /**
     * The version a request falls on.
     *
     * @param ready whether a version is ready now
     * @param point the request's point: {@link #hash} of its sticky key, or a random long
     * @return the version, or null when no version with a positive weight is ready (route by default)
     */
    public Long pick(LongPredicate ready, long point) {
        // Readiness is read once per version (it may change meanwhile, and the draw must stay in
        // range), into a small array rather than a map: this runs for every request.
        long[] versions = new long[weights.size()];
        int[] effective = new int[versions.length];
        long total = 0;
        int i = 0;
        for (Map.Entry<Long, Integer> e : weights.entrySet()) {
            versions[i] = e.getKey();
            effective[i] = ready.test(e.getKey()) ? e.getValue() : 0;
            total += effective[i++];
        }
        if (total == 0) {
            return null;
        }
        long at = Long.remainderUnsigned(point, total);
        for (i = 0; i < versions.length; i++) {
            at -= effective[i];
            if (at < 0) {
                return versions[i];
            }
        }
        throw new AssertionError("a point below the total falls on a version");
    }

    /**
     * A stable 64-bit hash of a sticky key: FNV-1a over its UTF-8 bytes, then MurmurHash3's finalizer
     * so that similar keys (user-1, user-2) spread over the whole range. The same in every process
     * and release, so a caller keeps its version across restarts.
     */
    public static long hash(String key) {
        long h = 0xcbf29ce484222325L;
        for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }

    /**
     * This split over {@code versions} only (the others are gone from the model), or null when no
     * version left has a positive weight.
     */
    TrafficSplit restrictedTo(Set<Long> versions) {
        if (versions.containsAll(weights.keySet())) {
            return this;
        }
        NavigableMap<Long, Integer> kept = new TreeMap<>(weights);
        kept.keySet().retainAll(versions);
        return kept.values().stream().anyMatch(w -> w > 0) ? new TrafficSplit(kept, stickyHeader) : null;
    }

    /** The header name in lower case; refused unless it is a plain text header that HTTP and gRPC both carry. */
    private static String checkedHeader(String name) {
        String lower = name.strip().toLowerCase(Locale.ROOT);
        boolean plain = !lower.isEmpty() && lower.length() <= MAX_HEADER_LENGTH
                && lower.chars().allMatch(c -> (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
                        || c == '.');
        if (!plain || lower.endsWith("-bin")) {
            throw new ServingException.InvalidInput("sticky_header '" + (name.length() > 40 ? name.substring(0, 40)
                    + "..." : name) + "' is not a header name torchlight can route by; expected 1 to "
                    + MAX_HEADER_LENGTH + " letters, digits, '-', '_' or '.', not ending in -bin (gRPC's binary"
                    + " metadata), e.g. x-user-id");
        }
        return lower;
    }
}
