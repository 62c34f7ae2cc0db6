package dev.torchlight.api;

import java.util.ArrayList;
import java.util.List;
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
    /** Each thread's scope, made once and reused by every {@link #around} on that thread. */
    private static final ThreadLocal<Scope> SCOPE = ThreadLocal.withInitial(Scope::new);

    private BatchedCompletion() {}

    /** Runs {@code work}; tasks given to {@link #deferring} executors meanwhile go out once per executor at the end. */
    public static <T> T around(Supplier<T> work) {
        Scope scope = SCOPE.get();
        if (scope.open) {
            return work.get(); // nested: the outer scope delivers
        }
        scope.open = true;
        try {
            return work.get();
        } finally {
            scope.open = false;
            scope.deliver();
        }
    }

    /** An executor that joins the current thread's {@link #around} scope, if any, else is {@code target}. */
    public static Executor deferring(Executor target) {
        return task -> {
            Scope scope = SCOPE.get();
            if (scope.open) {
                scope.add(target, task);
            } else {
                target.execute(task);
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

    /**
     * The tasks deferred on one thread, by executor in the order first used: a batch reaches a few
     * executors at most (one per I/O thread), so a list beats a map, and it is kept for the next batch.
     */
    private static final class Scope {
        private final List<Executor> executors = new ArrayList<>();
        private final List<List<Runnable>> tasks = new ArrayList<>();
        private boolean open;

        void add(Executor target, Runnable task) {
            for (int i = 0; i < executors.size(); i++) {
                if (executors.get(i) == target) {
                    tasks.get(i).add(task);
                    return;
                }
            }
            List<Runnable> list = new ArrayList<>();
            list.add(task);
            executors.add(target);
            tasks.add(list);
        }

        /** Hands each executor its tasks as one, emptying the scope. */
        void deliver() {
            while (!executors.isEmpty()) {
                // Out of the scope before they go: an executor that runs a task at once may open this
                // thread's scope again, and must not see them.
                Executor target = executors.removeFirst();
                List<Runnable> list = tasks.removeFirst();
                try {
                    target.execute(() -> runAll(list));
                } catch (RuntimeException e) {
                    // A stopped executor (its connections are gone) must not keep the others' tasks back.
                    LOG.warn("deferred completions could not be handed to their executor: {}", e.toString());
                }
            }
        }
    }
}
