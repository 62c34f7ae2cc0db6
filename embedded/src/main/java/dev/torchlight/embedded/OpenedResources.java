package dev.torchlight.embedded;

import java.util.ArrayList;
import java.util.List;

/**
 * What a start-up has opened so far, to close in reverse order when a later step fails: the pattern
 * of {@link TorchlightBuilder#open} and of the server's composition root, in one place.
 */
public final class OpenedResources {
    private final List<AutoCloseable> opened = new ArrayList<>();

    /** Remembers {@code resource} and returns it. */
    public <T extends AutoCloseable> T add(T resource) {
        opened.add(resource);
        return resource;
    }

    /**
     * Closes everything remembered, newest first, adding what closing throws to {@code failure} as
     * suppressed; returns {@code failure} to rethrow.
     */
    public <E extends Throwable> E closeAfter(E failure) {
        for (int i = opened.size() - 1; i >= 0; i--) {
            try {
                opened.get(i).close();
            } catch (Exception suppressed) {
                failure.addSuppressed(suppressed);
            }
        }
        opened.clear();
        return failure;
    }
}
