package dev.torchlight.config;

import java.util.List;
import java.util.NavigableSet;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which of a model's version folders are served: the newest N, all of them, or named ones. Set in
 * a model's {@code config.yaml} as {@code version_policy: {latest: N}}, {@code {all: {}}} or
 * {@code {specific: [1, 3]}}; without it every version is served.
 */
public sealed interface VersionPolicy {

    /** The versions to serve out of those on disk. */
    NavigableSet<Long> select(NavigableSet<Long> available);

    /** Every version on disk. */
    record All() implements VersionPolicy {
        @Override
        public NavigableSet<Long> select(NavigableSet<Long> available) {
            return new TreeSet<>(available);
        }
    }

    /** The {@code count} highest versions on disk. */
    record Latest(int count) implements VersionPolicy {
        public Latest {
            if (count < 1) {
                throw new IllegalArgumentException("latest needs a count of at least 1, got " + count);
            }
        }

        @Override
        public NavigableSet<Long> select(NavigableSet<Long> available) {
            NavigableSet<Long> chosen = new TreeSet<>();
            for (Long v : available.descendingSet()) {
                if (chosen.size() == count) {
                    break;
                }
                chosen.add(v);
            }
            return chosen;
        }
    }

    /** Exactly these versions, where they exist on disk. */
    record Specific(Set<Long> versions) implements VersionPolicy {
        public Specific {
            versions = Set.copyOf(versions);
        }

        @Override
        public NavigableSet<Long> select(NavigableSet<Long> available) {
            NavigableSet<Long> chosen = new TreeSet<>(available);
            chosen.retainAll(versions);
            return chosen;
        }
    }

    /** The policy when config.yaml names none. */
    static VersionPolicy all() {
        return new All();
    }

    /** For messages: {@code latest 2}, {@code all}, {@code specific [1, 3]}. */
    static String describe(VersionPolicy policy) {
        return switch (policy) {
            case All a -> "all";
            case Latest l -> "latest " + l.count();
            case Specific s -> "specific " + List.copyOf(new TreeSet<>(s.versions()));
        };
    }
}
