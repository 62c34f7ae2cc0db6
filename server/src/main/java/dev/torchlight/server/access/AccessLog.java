package dev.torchlight.server.access;

/**
 * Where the HTTP front end reports each request it answered. When {@link #enabled()} is false the
 * front end skips the whole bookkeeping (no clock reads, no entries), so a disabled log costs a
 * field read per request.
 */
public interface AccessLog extends AutoCloseable {

    /** The log that records nothing. */
    AccessLog OFF = new AccessLog() {
        @Override
        public boolean enabled() {
            return false;
        }

        @Override
        public void record(AccessEntry entry) {}

        @Override
        public void close() {}
    };

    boolean enabled();

    /** Takes one answered request; must not block the caller (an I/O thread). */
    void record(AccessEntry entry);

    /** Writes what was recorded and releases the file. */
    @Override
    void close();
}
