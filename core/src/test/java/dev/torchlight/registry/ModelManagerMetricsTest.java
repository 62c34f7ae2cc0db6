package dev.torchlight.registry;

import static dev.torchlight.registry.Waits.failure;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.api.DataType;
import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.metrics.ModelStats;
import dev.torchlight.metrics.Outcome;
import dev.torchlight.repository.ModelRepository;
import dev.torchlight.repository.ModelSource;
import dev.torchlight.scheduler.NanoClock;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the registry records for metrics and access logs: outcomes, in-flight requests, per-request timing. */
class ModelManagerMetricsTest {
    private static final String CONFIG = """
            name: adder
            platform: torchscript
            max_batch_size: 4
            inputs:
              - {name: a, datatype: FP32, shape: [2]}
            outputs:
              - {name: a_out, datatype: FP32, shape: [2]}
            dynamic_batching: {max_queue_delay_us: 60000000, max_queue_size: 2}
            """;

    @TempDir
    Path repo;

    private final FakeEngine engine = new FakeEngine();
    /** Moves only when a test says so. */
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final NanoClock clock = now::get;
    private ModelManager registry;
    private ModelService routes;

    /** A request for a model's default version. */
    private record Call(String model, InferenceRequest request) {}

    private CompletableFuture<InferenceResponse> infer(Call call) {
        return FrontEnd.infer(routes, call.model(), null, call.request());
    }

    @AfterEach
    void close() {
        if (registry != null) {
            registry.close();
        }
    }

    private void start(boolean histograms) throws IOException {
        Path dir = Files.createDirectories(repo.resolve("adder"));
        Files.writeString(dir.resolve(ModelSource.CONFIG_FILE), CONFIG);
        Files.writeString(Files.createDirectories(dir.resolve("1")).resolve(ModelSource.MODEL_FILE), "10");
        registry = new ModelManager(engine, clock, new LoadOptions(histograms, false));
        routes = registry.routes();
        registry.load(new ModelRepository(repo).source("adder"));
    }

    private static Call request(int rows, int priority, long timeoutMicros) {
        ByteBuffer b = ByteBuffer.allocate(8 * rows).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 2 * rows; i++) {
            b.putFloat(i);
        }
        Tensor a = new Tensor("a", DataType.FP32, new long[] {rows, 2}, b.flip());
        return new Call("adder", new InferenceRequest(null, List.of(a), List.of(), priority, timeoutMicros));
    }

    private ModelStats.Snapshot stats() {
        return routes.resolve("adder", null).stats();
    }

    @Test
    void aResponseCarriesItsRowsQueueTimeAndComputeTime() throws Exception {
        start(true);
        CompletableFuture<InferenceResponse> first = infer(request(2, 0, 0));
        now.addAndGet(3_000_000); // the first waits 3 ms for the batch to fill
        CompletableFuture<InferenceResponse> second = infer(request(2, 0, 0));

        InferenceResponse a = first.get(10, TimeUnit.SECONDS);
        InferenceResponse b = second.get(10, TimeUnit.SECONDS);
        assertThat(a.rows()).isEqualTo(2);
        assertThat(a.queueNanos()).isEqualTo(3_000_000);
        assertThat(b.queueNanos()).isZero();
        assertThat(a.computeNanos()).isEqualTo(b.computeNanos()); // one run
        assertThat(queued()).isZero();
        ModelStats.Snapshot s = stats();
        assertThat(s.inFlight()).isZero();
        assertThat(s.outcomes()).containsEntry(Outcome.SUCCESS, 2L);
        assertThat(s.batchSizes().counts()).containsExactly(0, 0, 1, 0);
        assertThat(s.queueLatency().count()).isEqualTo(2);
        assertThat(s.queueLatency().sum()).isEqualTo(3_000_000);
    }

    @Test
    void refusalsAreCountedByOutcomeButNotAsV2Failures() throws Exception {
        start(true);
        // Validation: a wrong shape. Scheduler: a priority the model does not have.
        assertThat(failure(infer(request(5, 0, 0)))).isInstanceOf(ServingException.InvalidInput.class);
        assertThat(failure(infer(request(1, 3, 0)))).isInstanceOf(ServingException.InvalidInput.class);
        // A full queue: two waiting requests (the batch never fills, the clock never reaches the delay).
        CompletableFuture<InferenceResponse> one = infer(request(1, 0, 0));
        CompletableFuture<InferenceResponse> two = infer(request(1, 0, 0));
        assertThat(failure(infer(request(1, 0, 0)))).isInstanceOf(ServingException.Overloaded.class);
        assertThat(stats().inFlight()).isEqualTo(2);
        assertThat(routes.resolve("adder", null).queued()).isEqualTo(2);

        ModelStats.Snapshot s = stats();
        assertThat(s.outcomes()).containsEntry(Outcome.INVALID_INPUT, 2L).containsEntry(Outcome.OVERLOADED, 1L)
                .containsEntry(Outcome.SUCCESS, 0L);
        assertThat(s.failCount()).isZero();
        assertThat(s.requestLatency().count()).isZero();
        registry.close(); // runs what is queued
        one.get(10, TimeUnit.SECONDS);
        two.get(10, TimeUnit.SECONDS);
        registry = null;
    }

    @Test
    void aRequestThatTimesOutInTheQueueIsATimedOutFailure() throws Exception {
        start(false);
        CompletableFuture<InferenceResponse> late = infer(request(1, 0, 1_000));
        now.addAndGet(2_000_000);
        CompletableFuture<InferenceResponse> waiting = infer(request(1, 0, 0));
        assertThat(failure(late)).isInstanceOf(ServingException.TimedOut.class);

        ModelStats.Snapshot s = stats();
        assertThat(s.outcomes()).containsEntry(Outcome.TIMED_OUT, 1L);
        assertThat(s.failCount()).isEqualTo(1);
        assertThat(s.failNs()).isEqualTo(2_000_000);
        assertThat(s.requestLatency()).as("histograms off").isNull();
        registry.close();
        waiting.get(10, TimeUnit.SECONDS);
        registry = null;
    }

    private int queued() {
        return routes.resolve("adder", null).queued();
    }

}
