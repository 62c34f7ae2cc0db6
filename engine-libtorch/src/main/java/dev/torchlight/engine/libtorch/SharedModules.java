package dev.torchlight.engine.libtorch;

import dev.torchlight.engine.EngineException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The loaded modules that the CPU instances of one model file share. The first instance loads the
 * file; every other instance, of the same or another version reading the same file (a scaled or
 * reloaded one), gets a second handle on that module while any handle on it lives, so that its
 * weights are in memory once however many instances run them. An instance that asks while the
 * first is still loading waits for it rather than loading a copy beside it. A module that cannot be
 * shared (its forward keeps state between calls) is loaded by each instance, as before.
 *
 * @param <H> a handle on a loaded module
 */
final class SharedModules<H> {
    private static final Logger LOG = LoggerFactory.getLogger(SharedModules.class);

    /** The handles on one file's module, and the callers that hold or await one. */
    private final class Entry {
        final ReentrantLock lock = new ReentrantLock();
        /** Live handles, the first one loaded, the others shared from one of them. Under lock. */
        final List<H> handles = new ArrayList<>();
        /** How many of the handles were loaded rather than shared. Under lock. */
        int loaded;
        /** Why the module cannot be shared, once a share was refused; null until then. Under lock. */
        String unshareable;
        /** Callers between acquire and release; the entry goes when none is left. Under the map. */
        int users;
    }

    private final Map<Object, Entry> entries = new HashMap<>();
    private final UnaryOperator<H> share;
    private final Consumer<H> free;

    /**
     * @param share a second handle on a live one's module; throws an {@link EngineException} saying
     *     why when the module cannot be shared
     * @param free releases one handle; the module goes with its last
     */
    SharedModules(UnaryOperator<H> share, Consumer<H> free) {
        this.share = share;
        this.free = free;
    }

    /**
     * A handle on the module {@code key} names: shared from a live one, else loaded.
     *
     * @param key what makes two loads give the same module (the file's identity, the load settings)
     * @param load loads the module; what it throws is thrown
     * @param label the model, for the log
     */
    H acquire(Object key, Supplier<H> load, String label) {
        Entry entry;
        synchronized (entries) {
            entry = entries.computeIfAbsent(key, k -> new Entry());
            entry.users++;
        }
        entry.lock.lock();
        try {
            if (!entry.handles.isEmpty() && entry.unshareable == null) {
                try {
                    H handle = share.apply(entry.handles.getFirst());
                    entry.handles.add(handle);
                    LOG.info("{}: shares the weights already in memory ({} instances on them now)", label,
                            entry.handles.size());
                    return handle;
                } catch (EngineException e) {
                    entry.unshareable = e.getMessage();
                    LOG.info("{}: each instance loads its own copy of the weights: {}", label, e.getMessage());
                }
            }
            H handle = load.get();
            entry.handles.add(handle);
            entry.loaded++;
            return handle;
        } catch (RuntimeException | Error e) {
            leave(key, entry);
            throw e;
        } finally {
            entry.lock.unlock();
        }
    }

    /** Releases a handle from {@link #acquire}. */
    void release(Object key, H handle) {
        Entry entry;
        synchronized (entries) {
            entry = entries.get(key);
        }
        if (entry == null) {
            throw new IllegalStateException("no module is loaded for " + key);
        }
        entry.lock.lock();
        try {
            if (!entry.handles.remove(handle)) {
                throw new IllegalStateException("handle " + handle + " is not one of " + key);
            }
            if (entry.handles.isEmpty()) {
                entry.loaded = 0;
            }
            // Under the lock: a load that finds no handle left starts only once this one is gone.
            try {
                free.accept(handle);
            } finally {
                leave(key, entry);
            }
        } finally {
            entry.lock.unlock();
        }
    }

    private void leave(Object key, Entry entry) {
        synchronized (entries) {
            if (--entry.users == 0) {
                entries.remove(key);
            }
        }
    }

    /** Live handles on the module {@code key} names. */
    int handles(Object key) {
        return count(key, false);
    }

    /**
     * How many copies of the module {@code key} names were loaded since it had no handle: 1 while
     * they share it, one per instance when it cannot be shared.
     */
    int loaded(Object key) {
        return count(key, true);
    }

    private int count(Object key, boolean loaded) {
        Entry entry;
        synchronized (entries) {
            entry = entries.get(key);
        }
        if (entry == null) {
            return 0;
        }
        entry.lock.lock();
        try {
            return loaded ? entry.loaded : entry.handles.size();
        } finally {
            entry.lock.unlock();
        }
    }
}
