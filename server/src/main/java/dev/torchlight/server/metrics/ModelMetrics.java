package dev.torchlight.server.metrics;

import dev.torchlight.metrics.ModelStats;
import dev.torchlight.metrics.Outcome;
import dev.torchlight.registry.ModelService;
import dev.torchlight.registry.ServedModel;
import dev.torchlight.registry.ServedVersion;
import dev.torchlight.scheduler.InstanceStatus;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The per model version metrics, read from the core's {@link ModelStats} and the scheduler's
 * state at scrape time: nothing is recorded here, so serving pays only for the core's adders.
 * Every series carries {@code model} and {@code version} labels (docs/METRICS.md lists them all).
 */
public final class ModelMetrics implements MultiCollector {
    private static final double NANOS = 1e-9;

    private final ModelService models;

    public ModelMetrics(ModelService models) {
        this.models = Objects.requireNonNull(models, "models");
    }

    @Override
    public MetricSnapshots collect() {
        var requests = CounterSnapshot.builder().name("torchlight_requests")
                .help("Requests that reached a model version, by outcome (success or the error kind).");
        var inferences = CounterSnapshot.builder().name("torchlight_inferences")
                .help("Rows inferred (the batch dimension of each answered request).");
        var executions = CounterSnapshot.builder().name("torchlight_executions")
                .help("Engine runs (batches).");
        var requestLatency = HistogramSnapshot.builder().name("torchlight_request_duration_seconds").unit(Unit.SECONDS)
                .help("Time from a request's arrival at the model to its answer or failure, for accepted requests.");
        var queueLatency = HistogramSnapshot.builder().name("torchlight_queue_duration_seconds").unit(Unit.SECONDS)
                .help("Time requests waited in the queue before their engine run started.");
        var computeLatency = HistogramSnapshot.builder().name("torchlight_compute_duration_seconds")
                .unit(Unit.SECONDS).help("Duration of engine runs (one per batch).");
        var batchSizes = HistogramSnapshot.builder().name("torchlight_batch_size")
                .help("Rows per engine run.");
        var queued = GaugeSnapshot.builder().name("torchlight_queue_depth")
                .help("Requests waiting in the queue now.");
        var inFlight = GaugeSnapshot.builder().name("torchlight_inflight_requests")
                .help("Requests accepted by the model and not yet answered (queued or running).");
        var instances = GaugeSnapshot.builder().name("torchlight_model_instances")
                .help("Instances of the model version.");
        var healthy = GaugeSnapshot.builder().name("torchlight_model_instances_healthy")
                .help("Instances that are healthy (not being reloaded).");
        var ready = GaugeSnapshot.builder().name("torchlight_model_ready")
                .help("1 when the model version serves, else 0 (failed to load, or no healthy instance).");
        var safeBatch = GaugeSnapshot.builder().name("torchlight_instance_safe_batch_size")
                .help("Largest batch an instance runs since it ran out of memory; 0 when it never did.");
        var callerRuns = CounterSnapshot.builder().name("torchlight_instance_caller_runs")
                .help("Batches an instance ran on the server thread that received the request, not its own thread.");
        var instanceInfo = GaugeSnapshot.builder().name("torchlight_instance_info")
                .help("1 for each instance, labelled with its device (cpu, cuda:N or model) and its CUDA stream.");
        var trafficWeight = GaugeSnapshot.builder().name("torchlight_model_traffic_weight")
                .help("The version's weight in its model's traffic split; only while the model has one.");
        var trafficEffective = GaugeSnapshot.builder().name("torchlight_model_traffic_effective_weight")
                .help("The weight routing uses now: the version's weight, 0 while it is not ready.");
        List<ServedModel> all = models.models(); // one view for every series of this scrape
        for (ServedModel model : all) {
            if (model.traffic() == null) {
                continue;
            }
            Map<Long, Integer> effective = model.effectiveTraffic();
            model.traffic().weights().forEach((version, weight) -> {
                Labels labels = Labels.of("model", model.name(), "version", Long.toString(version));
                trafficWeight.dataPoint(Snapshots.gauge(labels, weight));
                trafficEffective.dataPoint(Snapshots.gauge(labels, effective.getOrDefault(version, 0)));
            });
        }

        for (ServedVersion info : all.stream().flatMap(m -> m.listed().stream()).toList()) {
            if (info.version() <= 0) {
                // A model with no version folders: only its readiness says anything.
                ready.dataPoint(Snapshots.gauge(Labels.of("model", info.model(), "version", "0"), 0));
                continue;
            }
            Labels labels = Labels.of("model", info.model(), "version", Long.toString(info.version()));
            ready.dataPoint(Snapshots.gauge(labels, info.ready() ? 1 : 0));
            List<InstanceStatus> statuses = info.instances();
            instances.dataPoint(Snapshots.gauge(labels, statuses.size()));
            healthy.dataPoint(Snapshots.gauge(labels, statuses.stream().filter(InstanceStatus::healthy).count()));
            for (int i = 0; i < statuses.size(); i++) {
                InstanceStatus status = statuses.get(i);
                Labels instance = labels.add("instance", Integer.toString(i));
                safeBatch.dataPoint(Snapshots.gauge(instance, status.safeBatchSize()));
                callerRuns.dataPoint(Snapshots.counter(instance, status.callerRuns()));
                instanceInfo.dataPoint(Snapshots.gauge(instance.add("device", status.placement().toString())
                        .add("stream", status.stream()), 1));
            }
            if (statuses.isEmpty()) {
                continue; // never loaded: no counters
            }
            ModelStats.Snapshot s = info.stats();
            for (Map.Entry<Outcome, Long> e : s.outcomes().entrySet()) {
                requests.dataPoint(Snapshots.counter(labels.add("outcome", e.getKey().label()), e.getValue()));
            }
            inferences.dataPoint(Snapshots.counter(labels, s.inferenceCount()));
            executions.dataPoint(Snapshots.counter(labels, s.executionCount()));
            inFlight.dataPoint(Snapshots.gauge(labels, s.inFlight()));
            queued.dataPoint(Snapshots.gauge(labels, info.queued()));
            if (s.requestLatency() != null) {
                requestLatency.dataPoint(Snapshots.histogram(labels, s.requestLatency(), NANOS));
                queueLatency.dataPoint(Snapshots.histogram(labels, s.queueLatency(), NANOS));
                computeLatency.dataPoint(Snapshots.histogram(labels, s.computeLatency(), NANOS));
                batchSizes.dataPoint(Snapshots.histogram(labels, s.batchSizes(), 1));
            }
        }
        return MetricSnapshots.of(requests.build(), inferences.build(), executions.build(), requestLatency.build(),
                queueLatency.build(), computeLatency.build(), batchSizes.build(), queued.build(), inFlight.build(),
                instances.build(), healthy.build(), ready.build(), safeBatch.build(), callerRuns.build(),
                instanceInfo.build(), trafficWeight.build(), trafficEffective.build());
    }
}
