package dev.torchlight.server.management;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.registry.ServedModel;
import dev.torchlight.registry.ServedVersion;
import dev.torchlight.scheduler.InstanceStatus;
import java.io.IOException;
import java.util.List;

/**
 * One element of TorchServe's describe answer ({@code GET /models/{m}}): TorchServe's fields
 * ({@code modelName}, {@code modelVersion}, {@code modelUrl}, {@code runtime}, {@code minWorkers},
 * {@code maxWorkers}, {@code batchSize}, {@code maxBatchDelay}, {@code loadedAtStartup},
 * {@code deviceType}, {@code jobQueueStatus}, {@code workers}) and torchlight's (state, errors,
 * per-instance health, and while the model has a traffic split, the version's {@code trafficWeight}
 * and {@code trafficEffectiveWeight}, 0 while it is not ready).
 */
final class ModelDescription {
    private ModelDescription() {}

    /** @param model the model the version belongs to: its last load error and its traffic split */
    static void write(JsonGenerator g, ServedVersion info, String url, Long defaultVersion, ServedModel model)
            throws IOException {
        String lastError = model.error();
        ModelConfig config = info.config();
        List<InstanceStatus> instances = info.instances();
        g.writeStartObject();
        g.writeStringField("modelName", info.model());
        g.writeStringField("modelVersion", info.name());
        g.writeStringField("modelUrl", url);
        g.writeStringField("runtime", config == null ? "unknown" : config.platform());
        int count = instances.size();
        g.writeNumberField("minWorkers", count);
        g.writeNumberField("maxWorkers", count);
        g.writeNumberField("batchSize", config == null ? 0 : Math.max(1, config.maxBatchSize()));
        g.writeNumberField("maxBatchDelay", config == null || config.dynamicBatching() == null ? 0
                : config.dynamicBatching().maxQueueDelayMicros() / 1000);
        g.writeBooleanField("loadedAtStartup", false);
        g.writeStringField("deviceType", instances.stream().anyMatch(s -> s.placement().onGpu()) ? "gpu" : "cpu");
        g.writeObjectFieldStart("jobQueueStatus");
        int maxQueue = config == null || config.dynamicBatching() == null ? 0 : config.dynamicBatching().maxQueueSize();
        g.writeNumberField("remainingCapacity", maxQueue == 0 ? Integer.MAX_VALUE : Math.max(0, maxQueue - info.queued()));
        g.writeNumberField("pendingRequests", info.queued());
        g.writeEndObject();
        g.writeBooleanField("isDefault", defaultVersion != null && defaultVersion == info.version());
        g.writeStringField("state", info.state().name());
        if (info.error() != null) {
            g.writeStringField("error", info.error());
        }
        if (lastError != null) {
            g.writeStringField("lastLoadError", lastError);
        }
        if (model.traffic() != null) {
            g.writeNumberField("trafficWeight", model.traffic().weights().getOrDefault(info.version(), 0));
            g.writeNumberField("trafficEffectiveWeight", model.effectiveTraffic().getOrDefault(info.version(), 0));
        }
        g.writeArrayFieldStart("workers");
        for (InstanceStatus s : instances) {
            g.writeStartObject();
            g.writeStringField("id", s.label());
            g.writeStringField("status", s.healthy() ? "READY" : "UNHEALTHY");
            g.writeStringField("device", s.placement().toString());
            g.writeBooleanField("gpu", s.placement().onGpu());
            if (!s.stream().isEmpty()) {
                g.writeStringField("stream", s.stream());
            }
            g.writeStringField("gpuUsage", "N/A");
            g.writeNumberField("safeBatchSize", s.safeBatchSize());
            g.writeNumberField("reloads", s.reloads());
            if (s.lastError() != null) {
                g.writeStringField("lastError", s.lastError());
            }
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }
}
