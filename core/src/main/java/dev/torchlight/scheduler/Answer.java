package dev.torchlight.scheduler;

import dev.torchlight.api.Tensor;
import java.util.List;

/**
 * Where one queued request's outcome goes, exactly once: its own outputs with what the request
 * waited and computed, or its failure. One object per request receives it (the version's answer to
 * its client), so no chain of futures is built per request; both methods run on the instance's
 * thread (or on the thread that expired the request) and must return quickly and never throw.
 */
public interface Answer {
    /**
     * @param outputs the request's own outputs, in the engine's order
     * @param queueNanos from its arrival until its batch started on the engine
     * @param computeNanos the engine run it took part in
     */
    void succeed(List<Tensor> outputs, long queueNanos, long computeNanos);

    /** @param error a {@link dev.torchlight.api.ServingException} for anything a client may see */
    void fail(Throwable error);
}
