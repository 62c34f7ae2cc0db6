package dev.torchlight.server.metrics;

import dev.torchlight.registry.ModelService;
import dev.torchlight.registry.ServedVersion;
import dev.torchlight.scheduler.BatchingState;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.Objects;

/**
 * What the batch policies of versions with a {@code latency_target_ms} chose and learned: the target,
 * the target they steer by, the observed p99 and the slack, the chosen wait and batch size, AIMD's
 * cap, and each instance's learned engine cost at batch sizes 1, 2, 4, ... up to
 * {@code max_batch_size}. Versions batched by fixed settings export none of these.
 */
public final class BatchingMetrics implements MultiCollector {
    private static final double NANOS = 1e-9;

    private final ModelService models;

    public BatchingMetrics(ModelService models) {
        this.models = Objects.requireNonNull(models, "models");
    }

    @Override
    public MetricSnapshots collect() {
        var info = gauge("torchlight_batch_policy_info", null,
                "1 for each version batched towards a latency target, labelled with its policy and how it waits now.");
        var target = gauge("torchlight_batch_latency_target_seconds", Unit.SECONDS,
                "The p99 latency target (dynamic_batching.latency_target_ms).");
        var effective = gauge("torchlight_batch_effective_target_seconds", Unit.SECONDS,
                "The target the policy steers by now: below the target after the observed p99 exceeded it.");
        var p99 = gauge("torchlight_batch_observed_p99_seconds", Unit.SECONDS,
                "p99 of the last 1,024 requests' time from arrival at the model to their answer.");
        var slack = gauge("torchlight_batch_target_slack_seconds", Unit.SECONDS,
                "The target minus the observed p99 (negative: the target is missed).");
        var wait = gauge("torchlight_batch_chosen_wait_seconds", Unit.SECONDS,
                "How long the oldest request of each batch waited, moving average.");
        var size = gauge("torchlight_batch_chosen_size", null, "Rows per batch the policy formed, moving average.");
        var cap = gauge("torchlight_batch_size_cap", null, "AIMD's current cap on rows per batch.");
        var cost = gauge("torchlight_batch_cost_seconds", Unit.SECONDS,
                "An instance's learned engine time for a batch of batch_size rows.");

        for (ServedVersion version : models.models().stream().flatMap(m -> m.listed().stream()).toList()) {
            BatchingState state = version.batching();
            if (!state.hasTarget()) {
                continue;
            }
            Labels labels = Labels.of("model", version.model(), "version", Long.toString(version.version()));
            info.dataPoint(Snapshots.gauge(labels.add("policy", state.policy()).add("wait_style", state.waitStyle()), 1));
            target.dataPoint(Snapshots.gauge(labels, state.targetNanos() * NANOS));
            effective.dataPoint(Snapshots.gauge(labels, state.effectiveTargetNanos() * NANOS));
            p99.dataPoint(Snapshots.gauge(labels, state.observedP99Nanos() * NANOS));
            slack.dataPoint(Snapshots.gauge(labels, state.slackNanos() * NANOS));
            wait.dataPoint(Snapshots.gauge(labels, state.waitNanos() * NANOS));
            size.dataPoint(Snapshots.gauge(labels, state.batchRows()));
            if (state.batchCap() > 0) {
                cap.dataPoint(Snapshots.gauge(labels, state.batchCap()));
            }
            int maxBatch = version.config() == null ? 1 : Math.max(1, version.config().maxBatchSize());
            for (BatchingState.BatchCost c : state.costs()) {
                if (c.runs() == 0) {
                    continue;
                }
                Labels instance = labels.add("instance", Integer.toString(c.instance()));
                for (int rows : BatchingState.costSizes(maxBatch)) {
                    cost.dataPoint(Snapshots.gauge(instance.add("batch_size", Integer.toString(rows)),
                            c.predictNanos(rows) * NANOS));
                }
            }
        }
        return MetricSnapshots.of(info.build(), target.build(), effective.build(), p99.build(), slack.build(),
                wait.build(), size.build(), cap.build(), cost.build());
    }

    private static GaugeSnapshot.Builder gauge(String name, Unit unit, String help) {
        GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name).help(help);
        return unit == null ? b : b.unit(unit);
    }
}
