package dev.torchlight.server.health;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.torchlight.registry.ServedModel;
import dev.torchlight.registry.ServedVersion;
import dev.torchlight.scheduler.InstanceStatus;
import dev.torchlight.server.http.HttpReply;
import dev.torchlight.server.http.JsonReplies;
import dev.torchlight.server.inference.InferenceLayer;
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
    private final InferenceLayer inference;

    public HealthDetail(InferenceLayer inference) {
        this.inference = Objects.requireNonNull(inference, "inference");
    }

    public HttpReply reply() {
        boolean ready = inference.ready();
        List<ServedModel> models = inference.models();
        return JsonReplies.json(ready ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, g -> {
            g.writeStartObject();
            g.writeBooleanField("ready", ready);
            g.writeArrayFieldStart("models");
            for (ServedModel model : models) {
                for (ServedVersion version : model.listed()) {
                    write(g, version);
                }
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    private static void write(JsonGenerator g, ServedVersion version) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", version.model());
        g.writeStringField("version", Long.toString(version.version()));
        g.writeStringField("state", version.state().name());
        g.writeBooleanField("ready", version.ready());
        g.writeStringField("error", version.error());
        g.writeArrayFieldStart("instances");
        for (InstanceStatus instance : version.instances()) {
            g.writeStartObject();
            g.writeStringField("instance", instance.label());
            g.writeStringField("device", instance.placement().toString());
            g.writeStringField("stream", instance.stream());
            g.writeBooleanField("healthy", instance.healthy());
            g.writeNumberField("safe_batch_size", instance.safeBatchSize());
            g.writeNumberField("consecutive_failures", instance.consecutiveFailures());
            g.writeNumberField("reloads", instance.reloads());
            g.writeNumberField("caller_runs", instance.callerRuns());
            g.writeStringField("last_error", instance.lastError());
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }
}
