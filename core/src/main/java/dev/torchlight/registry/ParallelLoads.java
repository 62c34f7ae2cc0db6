package dev.torchlight.registry;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs model loads side by side, at most as many at once as there are cores (at least two): each
 * load mostly waits for its instances, which load on their own threads, but loading every model of
 * a large repository at once would need all their memory at once.
 */
final class ParallelLoads {
    private final int parallelism = Math.max(2, Runtime.getRuntime().availableProcessors());

    /**
     * Runs every task and waits for all of them.
     *
     * @return their results, in task order
     * @throws RuntimeException the first task's failure, once every task has finished
     */
    <T> List<T> run(List<Callable<T>> tasks) {
        if (tasks.size() <= 1) {
            List<T> results = new ArrayList<>(tasks.size());
            for (Callable<T> task : tasks) {
                results.add(call(task));
            }
            return results;
        }
        AtomicInteger count = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(tasks.size(), parallelism),
                r -> Thread.ofPlatform().name("model-load-" + count.incrementAndGet()).daemon(true).unstarted(r));
        try {
            List<Future<T>> futures = new ArrayList<>(tasks.size());
            for (Callable<T> task : tasks) {
                futures.add(pool.submit(task));
            }
            List<T> results = new ArrayList<>(tasks.size());
            RuntimeException failure = null;
            for (Future<T> future : futures) {
                try {
                    results.add(getUninterruptibly(future));
                } catch (ExecutionException e) {
                    RuntimeException cause = e.getCause() instanceof RuntimeException r ? r
                            : new IllegalStateException(e.getCause());
                    if (failure == null) {
                        failure = cause;
                    } else {
                        failure.addSuppressed(cause);
                    }
                }
            }
            if (failure != null) {
                throw failure;
            }
            return results;
        } finally {
            pool.shutdown();
        }
    }

    private static <T> T call(Callable<T> task) {
        try {
            return task.call();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Loads are not cancelled halfway: an interrupt is kept for the caller once they finish. */
    private static <T> T getUninterruptibly(Future<T> future) throws ExecutionException {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return future.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
