package dev.torchlight.server.lifecycle;

/** A network listener that can stop in two steps, as {@link GracefulShutdown} needs. */
public interface Listener {
    /** Stops accepting new connections or calls; those already accepted go on. */
    void stopAccepting();

    /**
     * Waits up to {@code drainNanos} for accepted work to be answered, then closes everything.
     *
     * @return whether everything accepted was answered in time
     */
    boolean close(long drainNanos);
}
