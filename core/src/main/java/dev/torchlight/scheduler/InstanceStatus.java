package dev.torchlight.scheduler;

import dev.torchlight.engine.Placement;

/**
 * What the server may show about one model instance.
 *
 * @param label the instance, e.g. {@code resnet50/1#0}
 * @param placement where it runs
 * @param stream the CUDA stream it queues its work on ({@link dev.torchlight.engine.LoadedModel#stream()});
 *     empty on the CPU
 * @param healthy false while the instance is being reloaded after repeated failures or a device fault
 * @param safeBatchSize the most rows it runs in one batch since it ran out of memory; 0 when it never
 *     did (then {@code max_batch_size} applies)
 * @param consecutiveFailures batches failed in a row (engine errors other than out-of-memory)
 * @param reloads times it was reloaded
 * @param lastError the last engine error it saw, or null
 * @param callerRuns batches it ran on the server thread that received the request rather than on its
 *     own thread ({@link CallerRuns}): a fast CPU model's requests that found it idle
 */
public record InstanceStatus(
        String label, Placement placement, String stream, boolean healthy, int safeBatchSize, int consecutiveFailures,
        long reloads, String lastError, long callerRuns) {}
