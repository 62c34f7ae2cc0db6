package dev.torchlight.server.http.v2;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.torchlight.metrics.ModelStats;
import dev.torchlight.registry.ServedModel;
import dev.torchlight.registry.ServedVersion;
import dev.torchlight.scheduler.BatchingState;
import dev.torchlight.server.http.HttpReply;
import dev.torchlight.server.http.JsonReplies;
import dev.torchlight.server.inference.InferenceLayer;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The v2 statistics extension ({@code GET /v2/models[/{m}[/versions/{v}]]/stats}) in Triton's
 * JSON shape: per model version, request success/fail, queue and compute counts with summed
 * nanoseconds, and {@code batch_stats}: engine runs by batch size (rows per run), ascending, only
 * sizes that ran. torchlight runs input copy, inference and output copy as one engine call, so all
 * of it is reported as {@code compute_infer}; {@code compute_input} and {@code compute_output}
 * carry the same counts with zero nanoseconds. While a model has a traffic split, each of its
 * versions also carries torchlight's {@code traffic_weight} and {@code traffic_effective_weight}
 * (0 while the version is not ready). A version batched towards a latency target also carries
 * {@code batching}: what its policy chose and learned.
 */
public final class V2Statistics {
    private final InferenceLayer inference;

    public V2Statistics(InferenceLayer inference) {
        this.inference = inference;
    }

    /**
     * @param model a model name, or null for every model
     * @param version a version, or null for every version of {@code model}
     */
    public HttpReply statistics(String model, Long version) {
        List<ServedVersion> versions = inference.statistics(model, version);
        Map<String, ServedModel> models = new HashMap<>();
        inference.models().forEach(m -> models.put(m.name(), m));
        return JsonReplies.json(HttpResponseStatus.OK, g -> {
            g.writeStartObject();
            g.writeArrayFieldStart("model_stats");
            for (ServedVersion served : versions) {
                write(g, served, models.get(served.model()));
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    /** @param model the version's model now, or null when it has been unloaded meanwhile */
    private static void write(JsonGenerator g, ServedVersion served, ServedModel model) throws IOException {
        ModelStats.Snapshot s = served.stats();
        g.writeStartObject();
        g.writeStringField("name", served.model());
        g.writeStringField("version", Long.toString(served.version()));
        g.writeNumberField("last_inference", s.lastInferenceMillis());
        g.writeNumberField("inference_count", s.inferenceCount());
        g.writeNumberField("execution_count", s.executionCount());
        if (model != null && model.traffic() != null) {
            g.writeNumberField("traffic_weight", model.traffic().weights().getOrDefault(served.version(), 0));
            g.writeNumberField("traffic_effective_weight", model.effectiveTraffic().getOrDefault(served.version(), 0));
        }
        g.writeObjectFieldStart("inference_stats");
        duration(g, "success", s.successCount(), s.successNs());
        duration(g, "fail", s.failCount(), s.failNs());
        duration(g, "queue", s.queueCount(), s.queueNs());
        duration(g, "compute_input", s.computeCount(), 0);
        duration(g, "compute_infer", s.computeCount(), s.computeNs());
        duration(g, "compute_output", s.computeCount(), 0);
        g.writeEndObject();
        g.writeArrayFieldStart("batch_stats");
        for (ModelStats.BatchStat b : s.batches()) {
            g.writeStartObject();
            g.writeNumberField("batch_size", b.batchSize());
            duration(g, "compute_input", b.count(), 0);
            duration(g, "compute_infer", b.count(), b.ns());
            duration(g, "compute_output", b.count(), 0);
            g.writeEndObject();
        }
        g.writeEndArray();
        batching(g, served);
        g.writeEndObject();
    }

    /**
     * torchlight's extension, for versions batched towards a latency target: what the policy chose and
     * learned, in microseconds; absent for fixed batching.
     */
    private static void batching(JsonGenerator g, ServedVersion served) throws IOException {
        BatchingState state = served.batching();
        if (!state.hasTarget()) {
            return;
        }
        g.writeObjectFieldStart("batching");
        g.writeStringField("policy", state.policy());
        if (!state.waitStyle().isEmpty()) {
            g.writeStringField("wait_style", state.waitStyle());
        }
        g.writeNumberField("latency_target_us", state.targetNanos() / 1e3);
        g.writeNumberField("effective_target_us", state.effectiveTargetNanos() / 1e3);
        g.writeNumberField("observed_p99_us", state.observedP99Nanos() / 1e3);
        g.writeNumberField("slack_us", state.slackNanos() / 1e3);
        g.writeNumberField("chosen_wait_us", Math.round(state.waitNanos() / 10.0) / 100.0);
        g.writeNumberField("chosen_batch_size", Math.round(state.batchRows() * 100) / 100.0);
        if (state.batchCap() > 0) {
            g.writeNumberField("batch_size_cap", state.batchCap());
        }
        g.writeArrayFieldStart("learned_costs");
        int maxBatch = served.config() == null ? 1 : Math.max(1, served.config().maxBatchSize());
        for (BatchingState.BatchCost c : state.costs()) {
            g.writeStartObject();
            g.writeNumberField("instance", c.instance());
            g.writeNumberField("runs", c.runs());
            g.writeNumberField("fixed_us", Math.round(c.fixedNanos() / 10.0) / 100.0);
            g.writeNumberField("per_row_us", Math.round(c.perRowNanos() / 10.0) / 100.0);
            g.writeObjectFieldStart("by_batch_size_us");
            for (int rows : BatchingState.costSizes(maxBatch)) {
                g.writeNumberField(Integer.toString(rows), Math.round(c.predictNanos(rows) / 10.0) / 100.0);
            }
            g.writeEndObject();
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    private static void duration(JsonGenerator g, String name, long count, long ns) throws IOException {
        g.writeObjectFieldStart(name);
        g.writeNumberField("count", count);
        g.writeNumberField("ns", ns);
        g.writeEndObject();
    }
}
