package dev.torchlight.server.health;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.torchlight.api.ServingException;
import dev.torchlight.registry.ModelService;
import dev.torchlight.registry.ModelVersionInfo;
import dev.torchlight.scheduler.InstanceStatus;
import dev.torchlight.server.http.HttpReply;
import dev.torchlight.server.http.JsonReplies;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.util.List;
import java.util.Objects;

/**
 * {@code GET /health/detail}: the server's readiness and, for each model version, its state, why
 * it does not serve (the last error) and its instances. 200 when the server is ready, else 503,
 * with the same body, so a person or a probe sees at once which model holds readiness back.
 */
public final class HealthDetail {
    private final ModelService service;

    public HealthDetail(ModelService service) {
        this.service = Objects.requireNonNull(service, "service");
    }

    public HttpReply reply() {
        boolean ready = service.ready();
        List<ModelVersionInfo> versions = service.models();
        return JsonReplies.json(ready ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, g -> {
            g.writeStartObject();
            g.writeBooleanField("ready", ready);
            g.writeArrayFieldStart("models");
            for (ModelVersionInfo info : versions) {
                write(g, info, instances(info));
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    private List<InstanceStatus> instances(ModelVersionInfo info) {
        if (info.version() <= 0) {
            return List.of();
        }
        try {
            return service.instances(info.name(), info.version());
        } catch (ServingException.NotFound e) {
            return List.of(); // unloaded between listing and asking
        }
    }

    private static void write(JsonGenerator g, ModelVersionInfo info, List<InstanceStatus> instances)
            throws IOException {
        g.writeStartObject();
        g.writeStringField("name", info.name());
        g.writeStringField("version", Long.toString(info.version()));
        g.writeStringField("state", info.state().name());
        g.writeBooleanField("ready", info.ready());
        g.writeStringField("error", info.error());
        g.writeArrayFieldStart("instances");
        for (InstanceStatus instance : instances) {
            g.writeStartObject();
            g.writeStringField("instance", instance.label());
            g.writeBooleanField("healthy", instance.healthy());
            g.writeNumberField("safe_batch_size", instance.safeBatchSize());
            g.writeNumberField("consecutive_failures", instance.consecutiveFailures());
            g.writeNumberField("reloads", instance.reloads());
            g.writeStringField("last_error", instance.lastError());
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }
}
