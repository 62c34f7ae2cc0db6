package dev.torchlight.server.http.v2;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.torchlight.config.BatchInput;
import dev.torchlight.config.DynamicBatching;
import dev.torchlight.config.InstanceGroup;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.registry.ServedVersion;
import dev.torchlight.server.http.HttpReply;
import dev.torchlight.server.http.JsonReplies;
import dev.torchlight.server.inference.InferenceLayer;
import dev.torchlight.server.inference.TritonNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.util.List;
import java.util.Objects;

/**
 * Triton's model configuration extension: {@code GET /v2/models/{m}[/versions/{v}]/config}, a model's
 * config.yaml in the JSON shape of Triton's {@code ModelConfig} (field names as its protobuf
 * declares them), so that Triton's clients ({@code get_model_config}, {@code perf_analyzer},
 * {@code model_analyzer}) can read batch size, tensors (ragged ones marked {@code allow_ragged_batch}), the inputs the server
 * makes per batch ({@code batch_input}), batching and instances. Absent settings are
 * left out, as protobuf's JSON leaves out defaults.
 */
public final class TritonModelConfig {
    private final InferenceLayer inference;

    public TritonModelConfig(InferenceLayer inference) {
        this.inference = Objects.requireNonNull(inference, "inference");
    }

    /** The config of the version (the default one when {@code version} is null). */
    public HttpReply config(String model, Long version) {
        ServedVersion served = inference.version(model, version);
        ModelConfig config = served.config();
        if (config == null) {
            return JsonReplies.error(HttpResponseStatus.SERVICE_UNAVAILABLE, "model '" + model + "' version "
                    + served.version() + " has no configuration: it did not load"
                    + (served.error() != null ? ": " + served.error() : ""));
        }
        return JsonReplies.json(HttpResponseStatus.OK, g -> write(g, model, config));
    }

    /** Writes {@code config} as Triton's {@code ModelConfig} JSON for model {@code name}. */
    static void write(JsonGenerator g, String name, ModelConfig config) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", name);
        g.writeStringField("platform", TritonNames.platform(config));
        g.writeStringField("backend", TritonNames.BACKEND);
        g.writeNumberField("max_batch_size", config.maxBatchSize());
        writeTensors(g, "input", config.inputs());
        writeTensors(g, "output", config.outputs());
        if (!config.batchInputs().isEmpty()) {
            writeBatchInputs(g, config.batchInputs());
        }
        if (config.dynamicBatching() != null) {
            writeBatching(g, config.dynamicBatching());
        }
        g.writeArrayFieldStart("instance_group");
        List<InstanceGroup> groups = config.instanceGroups();
        for (int i = 0; i < groups.size(); i++) {
            InstanceGroup group = groups.get(i);
            g.writeStartObject();
            g.writeStringField("name", TritonNames.groupName(name, i));
            g.writeStringField("kind", TritonNames.kind(group));
            g.writeNumberField("count", group.count());
            if (!group.devices().isEmpty()) {
                g.writeArrayFieldStart("gpus");
                for (int device : group.devices()) {
                    g.writeNumber(device);
                }
                g.writeEndArray();
            }
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    private static void writeTensors(JsonGenerator g, String field, List<TensorSpec> specs) throws IOException {
        g.writeArrayFieldStart(field);
        for (TensorSpec spec : specs) {
            g.writeStartObject();
            g.writeStringField("name", spec.name());
            g.writeStringField("data_type", TritonNames.dataType(spec));
            g.writeArrayFieldStart("dims");
            for (long d : spec.shape()) {
                g.writeNumber(d);
            }
            g.writeEndArray();
            if (spec.ragged()) {
                g.writeBooleanField("allow_ragged_batch", true);
            }
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    private static void writeBatchInputs(JsonGenerator g, List<BatchInput> inputs) throws IOException {
        g.writeArrayFieldStart("batch_input");
        for (BatchInput b : inputs) {
            g.writeStartObject();
            g.writeStringField("kind", b.kind().name());
            g.writeArrayFieldStart("target_name");
            g.writeString(b.name());
            g.writeEndArray();
            g.writeStringField("data_type", TritonNames.dataType(b.dataType()));
            g.writeArrayFieldStart("source_input");
            g.writeString(b.sourceInput());
            g.writeEndArray();
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    private static void writeBatching(JsonGenerator g, DynamicBatching b) throws IOException {
        g.writeObjectFieldStart("dynamic_batching");
        if (!b.preferredBatchSizes().isEmpty()) {
            g.writeArrayFieldStart("preferred_batch_size");
            for (int size : b.preferredBatchSizes()) {
                g.writeNumber(size);
            }
            g.writeEndArray();
        }
        g.writeNumberField("max_queue_delay_microseconds", b.maxQueueDelayMicros());
        if (b.priorityLevels() > 0) {
            g.writeNumberField("priority_levels", b.priorityLevels());
            g.writeNumberField("default_priority_level", b.defaultPriorityLevel());
        }
        if (b.maxQueueSize() > 0 || b.defaultTimeoutMs() > 0) {
            g.writeObjectFieldStart("default_queue_policy");
            if (b.defaultTimeoutMs() > 0) {
                g.writeNumberField("default_timeout_microseconds", b.defaultTimeoutMs() * 1000);
            }
            if (b.maxQueueSize() > 0) {
                g.writeNumberField("max_queue_size", b.maxQueueSize());
            }
            g.writeEndObject();
        }
        g.writeEndObject();
    }
}
