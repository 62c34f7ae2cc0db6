package dev.torchlight.api;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands the follow-up work of many requests completed together (one engine batch) to each
 * consumer's executor in one task, instead of one task per request. A front end whose replies must
 * be written on an I/O thread otherwise wakes that thread once per request (a system call each):
 * with batches of dozens of requests those wake-ups cost more than the replies themselves.
 *
 * <p>The producer wraps the completions in {@link #around}; the consumer continues on
 * {@link #deferring}{@code (itsExecutor)}. Outside {@code around}, {@code deferring} passes tasks
 * straight through. The scope is per thread and ends with {@code around}, so nothing is held back
 * longer than the completing loop takes.
 */
public final class BatchedCompletion {
    private static final Logger LOG = LoggerFactory.getLogger(BatchedCompletion.class);
    private static final ThreadLocal<Map<Executor, List<Runnable>>> PENDING = new ThreadLocal<>();

    private BatchedCompletion() {}

    /** Runs {@code work}; tasks given to {@link #deferring} executors meanwhile go out once per executor at the end. */
    public static <T> T around(Supplier<T> work) {
        if (PENDING.get() != null) {
            return work.get(); // nested: the outer scope delivers
        }
        Map<Executor, List<Runnable>> pending = new IdentityHashMap<>();
        PENDING.set(pending);
        try {
            return work.get();
        } finally {
            PENDING.remove();
            pending.forEach((executor, tasks) -> executor.execute(() -> runAll(tasks)));
        }
    }

    /** An executor that joins the current thread's {@link #around} scope, if any, else is {@code target}. */
    public static Executor deferring(Executor target) {
        return task -> {
            Map<Executor, List<Runnable>> pending = PENDING.get();
            if (pending == null) {
                target.execute(task);
            } else {
                pending.computeIfAbsent(target, t -> new ArrayList<>()).add(task);
            }
        };
    }

    private static void runAll(List<Runnable> tasks) {
        for (Runnable task : tasks) {
            try {
                task.run();
            } catch (RuntimeException | Error e) {
                // One reply's failure must not keep the others from being written.
                LOG.error("a deferred completion failed", e);
            }
        }
    }
}
