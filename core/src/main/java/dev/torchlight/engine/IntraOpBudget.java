package dev.torchlight.engine;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shares the machine's cores among every live instance of one engine, across all its models, as
 * libtorch intra-op threads. Engines over libtorch hold one for the whole process.
 *
 * <p>Why across models and not per model: libtorch here uses GNU OpenMP, which gives every thread
 * that runs a model its own team of worker threads. Once the process holds more OpenMP threads than
 * cores, OpenMP stops letting idle workers spin and puts them to sleep after every parallel region,
 * so every model pays a futex wake-up per operator (ResNet-50 drops by about a third), even while
 * the other models sit idle. Keeping instances × threads within the cores process-wide avoids that.
 *
 * <p>An instance with a fixed count (the model's {@code intra_op_threads}, or the engine's option)
 * keeps it: that is asking for more. The others share what is left evenly, at least one thread
 * each: {@code max(1, (cores - fixed threads) / shared instances)}. The share is re-read on every
 * call, so it follows models being loaded and unloaded.
 */
public final class IntraOpBudget {
    private static final Logger LOG = LoggerFactory.getLogger(IntraOpBudget.class);

    private final int cores;
    private int fixedThreads;
    private int fixedInstances;
    private int sharedInstances;
    private volatile int share;
    private boolean oversubscribed;
    /** The warning is given once: a version swap oversubscribes briefly every time it runs. */
    private boolean warned;

    /** @param cores the cores to share, at least 1 */
    public IntraOpBudget(int cores) {
        if (cores < 1) {
            throw new IllegalArgumentException("cores must be at least 1, got " + cores);
        }
        this.cores = cores;
        this.share = cores;
    }

    /**
     * Takes threads for one instance until its lease is closed.
     *
     * @param fixed the instance's own thread count, or 0 to take a share of the cores
     */
    public synchronized Lease acquire(int fixed) {
        if (fixed < 0) {
            throw new IllegalArgumentException("fixed threads must be 0 (share) or positive, got " + fixed);
        }
        if (fixed > 0) {
            fixedThreads += fixed;
            fixedInstances++;
        } else {
            sharedInstances++;
        }
        update();
        return new Lease(fixed);
    }

    /** Threads each sharing instance gets now. */
    public int share() {
        return share;
    }

    private synchronized void release(int fixed) {
        if (fixed > 0) {
            fixedThreads -= fixed;
            fixedInstances--;
        } else {
            sharedInstances--;
        }
        update();
    }

    private void update() {
        int next = sharedInstances == 0 ? Math.max(1, cores - fixedThreads)
                : Math.max(1, (cores - fixedThreads) / sharedInstances);
        if (next != share) {
            share = next;
            if (sharedInstances > 0) {
                LOG.info("libtorch intra-op threads: {} per instance for models without intra_op_threads "
                        + "({} such instance(s), {} fixed instance(s) with {} thread(s), {} cores)",
                        next, sharedInstances, fixedInstances, fixedThreads, cores);
            }
        }
        int total = fixedThreads + sharedInstances * next;
        boolean over = total > cores;
        if (over && !oversubscribed) {
            if (!warned) {
                warned = true;
                LOG.warn("libtorch intra-op threads: {} in all on {} cores, because intra_op_threads asks for it "
                        + "or there are more instances than cores; GNU OpenMP slows every model of the process while "
                        + "its threads exceed the cores", total, cores);
            } else {
                LOG.info("libtorch intra-op threads: {} in all on {} cores again (a version swap runs both versions' "
                        + "instances for a moment; see the warning above)", total, cores);
            }
        }
        oversubscribed = over;
    }

    /** One instance's claim on the budget. */
    public final class Lease implements AutoCloseable {
        private final int fixed;
        private boolean closed;

        private Lease(int fixed) {
            this.fixed = fixed;
        }

        /** The intra-op threads the instance should run with now. */
        public int threads() {
            return fixed > 0 ? fixed : share;
        }

        /** Gives the threads back; idempotent. */
        @Override
        public void close() {
            synchronized (IntraOpBudget.this) {
                if (closed) {
                    return;
                }
                closed = true;
            }
            release(fixed);
        }
    }
}
