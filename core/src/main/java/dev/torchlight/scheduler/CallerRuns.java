package dev.torchlight.scheduler;

import dev.torchlight.engine.LoadedModel;

/**
 * Marks the threads that may run a fast CPU model's batch themselves: the server's I/O threads,
 * started with a stack of {@link LoadedModel#THREAD_STACK_BYTES} for the native code they may then
 * run. A request that arrives on such a thread and finds an instance of a fast CPU model idle runs
 * there and then, instead of being handed to the instance's thread and its answer handed back (two
 * thread wake-ups, which on a busy two-core machine made up most of a small model's latency tail).
 * Threads not marked (an embedding application's, a test's) always hand requests over.
 */
public final class CallerRuns {
    private static final ThreadLocal<Boolean> PERMITTED = ThreadLocal.withInitial(() -> false);

    private CallerRuns() {}

    /**
     * Marks the calling thread. Call it first thing on a thread created with a stack of at least
     * {@link LoadedModel#THREAD_STACK_BYTES}, whose other work may wait for a short model run.
     */
    public static void permitOnThisThread() {
        PERMITTED.set(true);
    }

    /** Whether the calling thread was marked by {@link #permitOnThisThread}. */
    public static boolean permittedHere() {
        return PERMITTED.get();
    }
}
