package dev.torchlight.scheduler;

import dev.torchlight.api.ServingException;
import java.util.List;

/**
 * What one scheduling decision, made under the scheduler's lock, leaves to do after it: requests to
 * fail and a batch to hand over. {@link #carryOut} does it outside the lock, because completing a
 * future runs its callbacks, which may run any code.
 *
 * @param now the clock reading the decision was made at; timed-out messages say how long requests waited
 * @param expired requests whose deadline passed in the queue: they fail as timed out
 * @param failed requests to fail with {@code failure} (all that was queued, when deciding failed or no
 *     instance is healthy)
 * @param instance the instance that runs {@code batch}, already marked busy; null when there is no batch
 * @param batch requests to run as one batch now, or null
 * @param wakeAt when the scheduler must decide again if nothing happens before;
 *     {@link NanoClock#NEVER}: only when something happens
 */
record Dispatch(long now, List<PendingRequest> expired, List<PendingRequest> failed, ServingException failure,
        ModelInstance instance, List<PendingRequest> batch, long wakeAt) {

    /** Nothing to do, and no time to wake at. */
    static final Dispatch NONE = new Dispatch(0, List.of(), List.of(), null, null, null, NanoClock.NEVER);

    /** Fails every one of {@code failed} with {@code failure}. */
    static Dispatch failing(List<PendingRequest> failed, ServingException failure) {
        return new Dispatch(0, List.of(), failed, failure, null, null, NanoClock.NEVER);
    }

    /** Nothing to run: fails {@code expired} as timed out; decide again at {@code wakeAt} at the latest. */
    static Dispatch waiting(long now, List<PendingRequest> expired, long wakeAt) {
        return new Dispatch(now, expired, List.of(), null, null, null, wakeAt);
    }

    /** Fails {@code expired} as timed out and runs {@code batch} on {@code instance}. */
    static Dispatch running(long now, List<PendingRequest> expired, ModelInstance instance,
            List<PendingRequest> batch) {
        return new Dispatch(now, expired, List.of(), null, instance, batch, NanoClock.NEVER);
    }

    /** Whether there is anything to carry out. */
    boolean acts() {
        return batch != null || !expired.isEmpty() || !failed.isEmpty();
    }

    /**
     * Fails what is to be failed, then hands the batch to its instance; an instance deciding for
     * itself ({@code self}) gets its batch back instead, to run on its own thread. Outside the lock.
     *
     * @param self the instance carrying this out on its own thread, or null
     * @return the batch for {@code self}, else null
     */
    List<PendingRequest> carryOut(ModelInstance self) {
        for (PendingRequest r : expired) {
            r.fail(Admission.timedOut(r, now));
        }
        for (PendingRequest r : failed) {
            r.fail(failure);
        }
        if (batch == null || instance == self) {
            return batch;
        }
        instance.run(batch);
        return null;
    }
}
