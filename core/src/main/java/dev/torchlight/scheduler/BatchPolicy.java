package dev.torchlight.scheduler;

import dev.torchlight.config.ModelConfig;

/**
 * Decides which queued requests of one model version run together, and when. The scheduler asks it
 * whenever something changed (a request arrived, an instance became idle, the wake-up time it named
 * came), for one idle instance at a time and under the scheduler's lock, so decisions never overlap.
 * A policy reads no clock (it is given the reading) and starts no thread, so a test drives it with
 * plain numbers.
 *
 * <p>Which policy a model gets is chosen in {@link #forConfig} alone; a new policy is a new class
 * and a line there.
 */
interface BatchPolicy {

    /** The policy for {@code config}: {@link FixedBatchPolicy} (maximum delay, preferred sizes). */
    static BatchPolicy forConfig(ModelConfig config) {
        return new FixedBatchPolicy(config);
    }

    /**
     * Decides for {@code queue} at {@code now}: run a batch now, wait, or nothing to do. Requests
     * whose deadline is at or before {@code now}, and the batch to run, are taken out of the queue
     * and handed over in the decision. A policy that throws must not have taken anything out: the
     * scheduler fails whatever is still queued.
     *
     * @param now a reading of the scheduler's clock
     * @param maxRows most rows the instance that would run the batch takes (at least 1)
     */
    Decision decide(RequestQueue queue, long now, int maxRows);

    /**
     * As {@link #decide}, but never waits: while anything is queued, a batch runs now. Used while
     * shutting down, to run what is queued without waiting for fuller batches.
     */
    Decision drain(RequestQueue queue, long now, int maxRows);

    /**
     * An engine run of {@code rows} rows succeeded and took {@code computeNanos}: what a policy that
     * learns the engine's cost per batch size needs. Called on the instance's thread once the run's
     * answers are out, after every successful run (each half too, when a batch that ran out of memory
     * is retried in halves), before the instance asks for its next batch; outside the scheduler's
     * lock, and possibly from several instances at once. Does nothing by default.
     */
    default void batchRan(int rows, long computeNanos) {}
}
