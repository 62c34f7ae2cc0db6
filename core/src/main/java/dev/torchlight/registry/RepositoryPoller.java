package dev.torchlight.registry;

import dev.torchlight.repository.ModelRepository;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --model-control poll}: rescans the repository at a fixed interval and brings the loaded models
 * in line with it ({@link ModelManager#reconcile}). One scan at a time on one daemon thread; a scan
 * that fails is logged and the next one tries again.
 */
public final class RepositoryPoller implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RepositoryPoller.class);

    private final ScheduledExecutorService timer;

    private RepositoryPoller(ScheduledExecutorService timer) {
        this.timer = timer;
    }

    /**
     * Starts polling after one interval.
     *
     * @param only model names to serve; empty serves every model in the repository
     */
    public static RepositoryPoller start(ModelManager models, ModelRepository repository, List<String> only,
            Duration interval) {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().name("repository-poll").daemon(true).unstarted(r));
        long nanos = interval.toNanos();
        timer.scheduleWithFixedDelay(() -> {
            try {
                for (LoadOutcome outcome : models.reconcile(repository.scan(only))) {
                    if (!outcome.ok()) {
                        LOG.error("model {}: {}", outcome.model(), String.join("; ", outcome.failures()));
                    }
                }
            } catch (RuntimeException e) {
                LOG.error("scanning the model repository {} failed: {}", repository.root(), e.getMessage());
            }
        }, nanos, nanos, TimeUnit.NANOSECONDS);
        LOG.info("polling {} for model changes every {} ms", repository.root(), interval.toMillis());
        return new RepositoryPoller(timer);
    }

    /** Stops polling and waits for a scan in progress. */
    @Override
    public void close() {
        timer.shutdown();
        try {
            if (!timer.awaitTermination(1, TimeUnit.MINUTES)) {
                LOG.warn("a repository scan is still running after 1 minute");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
