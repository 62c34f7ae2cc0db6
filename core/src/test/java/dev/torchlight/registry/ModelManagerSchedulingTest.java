package dev.torchlight.registry;

import static dev.torchlight.registry.Waits.eventually;
import static dev.torchlight.registry.Waits.failure;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.api.DataType;
import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.engine.EngineException;
import dev.torchlight.registry.FakeEngine.FakeModel;
import dev.torchlight.repository.ModelRepository;
import dev.torchlight.repository.ModelSource;
import dev.torchlight.scheduler.InstanceStatus;
import dev.torchlight.scheduler.NanoClock;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The registry with dynamic batching, instance groups, priorities, timeouts and reloads. */
class ModelManagerSchedulingTest {
    /** Batched adder (output = input + the number in model.pt) with the dynamic batching section appended. */
    private static final String BATCHED = """
            name: %s
            platform: torchscript
            max_batch_size: 4
            inputs:
              - {name: a, datatype: FP32, shape: [2]}
            outputs:
              - {name: a_out, datatype: FP32, shape: [2]}
            %s
            """;

    @TempDir
    Path repo;

    private final FakeEngine engine = new FakeEngine();
    /** Only moves when a test says so: a batch waits for its full delay of a minute until it is full. */
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

    private ModelManager registry(String name, String extra) throws IOException {
        return registry(name, extra, LoadOptions.SERVING.withoutWarmUp());
    }

    private ModelManager registry(String name, String extra, LoadOptions options) throws IOException {
        Path dir = Files.createDirectories(repo.resolve(name));
        Files.writeString(dir.resolve(ModelSource.CONFIG_FILE), BATCHED.formatted(name, extra));
        Files.writeString(Files.createDirectories(dir.resolve("1")).resolve(ModelSource.MODEL_FILE), "10");
        registry = new ModelManager(engine, clock, options);
        routes = registry.routes();
        registry.load(new ModelRepository(repo).source(name));
        return registry;
    }

    private static Call request(String model, float first, int priority, long timeoutMicros) {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(first).putFloat(first + 0.5f);
        Tensor a = new Tensor("a", DataType.FP32, new long[] {1, 2}, b.flip());
        return new Call(model, new InferenceRequest("r" + first, List.of(a), List.of(), priority, timeoutMicros));
    }

    private static float[] floats(InferenceResponse response) {
        ByteBuffer b = response.outputs().get(0).data();
        float[] out = new float[b.remaining() / 4];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.getFloat();
        }
        return out;
    }



    @Test
    void requestsAreBatchedUpToMaxBatchSizeAndEachGetsItsOwnRows() throws Exception {
        registry("adder", "dynamic_batching: {max_queue_delay_us: 60000000}");
        List<CompletableFuture<InferenceResponse>> futures = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            futures.add(infer(request("adder", i, 0, 0)));
        }
        for (int i = 0; i < 8; i++) {
            InferenceResponse response = futures.get(i).get(10, TimeUnit.SECONDS);
            assertThat(response.id()).isEqualTo("r" + (float) i);
            assertThat(response.outputs().get(0).shape()).containsExactly(1, 2);
            assertThat(floats(response)).containsExactly(i + 10f, i + 10.5f);
        }
        FakeModel model = engine.loaded.get(0);
        assertThat(model.calls).as("two full batches of 4 on a clock that never reaches the delay").hasValue(2);
        var stats = routes.resolve("adder", null).stats();
        assertThat(stats.successCount()).isEqualTo(8);
        assertThat(stats.executionCount()).isEqualTo(2);
        assertThat(stats.inferenceCount()).isEqualTo(8);
        assertThat(stats.queueCount()).isEqualTo(8);
    }

    @Test
    void eachInstanceOfTheGroupIsLoadedAndReported() throws Exception {
        registry("adder", "instance_group: [{count: 3, kind: CPU}]");
        assertThat(engine.loaded).hasSize(3);
        List<InstanceStatus> instances = routes.resolve("adder", null).instances();
        assertThat(instances).extracting(InstanceStatus::label).containsExactly("adder/1#0", "adder/1#1", "adder/1#2");
        assertThat(instances).allSatisfy(i -> {
            assertThat(i.healthy()).isTrue();
            assertThat(i.safeBatchSize()).isZero();
        });
        assertThat(floats(infer(request("adder", 1, 0, 0)).get(10, TimeUnit.SECONDS))).containsExactly(11f, 11.5f);

        registry.close();
        assertThat(engine.loaded).allMatch(m -> m.closed);
        registry = null;
    }

    @Test
    void aGpuInstanceGroupFailsToLoadWhereTheEngineSeesNoGpu() throws Exception {
        registry("gpu", "instance_group: [{count: 1, kind: GPU}]");
        ServedVersion info = routes.resolve("gpu", null);
        assertThat(info.state()).isEqualTo(ModelState.FAILED);
        assertThat(info.error()).isEqualTo("model 'gpu': instance_group kind GPU needs a GPU, but the engine sees none"
                + " (this build runs libtorch on CPU)");
        assertThat(engine.loaded).isEmpty();
        assertThat(routes.resolve("gpu", null).instances()).isEmpty();
        assertThat(failure(infer(request("gpu", 1, 0, 0)))).isInstanceOf(ServingException.NotReady.class);
    }

    @Test
    void aPriorityOutsideTheModelsLevelsIsInvalidInputAndNotCounted() throws Exception {
        registry("adder", "dynamic_batching: {max_queue_delay_us: 0, priority_levels: 2}");
        assertThat(failure(infer(request("adder", 1, 3, 0))))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessageContaining("priority 3 is outside 1..2");
        assertThat(infer(request("adder", 1, 2, 0)).get(10, TimeUnit.SECONDS)).isNotNull();
        var stats = routes.resolve("adder", null).stats();
        assertThat(stats.failCount()).isZero();
        assertThat(stats.successCount()).isEqualTo(1);
    }

    @Test
    void aRequestWhoseTimeoutPassesInTheQueueTimesOutAndNeverRuns() throws Exception {
        registry("adder", "dynamic_batching: {max_queue_delay_us: 60000000}");
        CompletableFuture<InferenceResponse> late = infer(request("adder", 1, 0, 1_000));
        now.addAndGet(2_000_000);
        CompletableFuture<InferenceResponse> waiting = infer(request("adder", 2, 0, 0));

        assertThat(failure(late)).isInstanceOf(ServingException.TimedOut.class)
                .hasMessage("request waited 2 ms in the queue, past its timeout of 1 ms");
        registry.close(); // runs what is queued
        registry = null;
        assertThat(floats(waiting.get(10, TimeUnit.SECONDS))).containsExactly(12f, 12.5f);
        assertThat(engine.loaded.get(0).calls).hasValue(1);
    }

    @Test
    void aFullQueueIsOverloaded() throws Exception {
        registry("adder", "dynamic_batching: {max_queue_delay_us: 60000000, max_queue_size: 2}");
        CompletableFuture<InferenceResponse> first = infer(request("adder", 1, 0, 0));
        CompletableFuture<InferenceResponse> second = infer(request("adder", 2, 0, 0));

        assertThat(failure(infer(request("adder", 3, 0, 0))))
                .isInstanceOf(ServingException.Overloaded.class)
                .hasMessage("model 'adder' queue is full (2 requests); retry later");
        assertThat(first).isNotDone();
        registry.close();
        registry = null;
        assertThat(first.get(10, TimeUnit.SECONDS)).isNotNull();
        assertThat(second.get(10, TimeUnit.SECONDS)).isNotNull();
    }

    @Test
    void failuresOfInputsTheModelRejectsDoNotReloadAnInstanceThatStillRunsItsWarmUp() throws Exception {
        registry("adder", "", LoadOptions.SERVING);
        FakeModel model = engine.loaded.get(0);
        int warmUpCalls = model.calls.get();
        // A client sending input after input the model rejects (an index out of its table, say).
        model.rejectAbove = 100;
        for (int i = 0; i < 12; i++) {
            assertThat(failure(infer(request("adder", 1000 + i, 0, 0)))).isInstanceOf(ServingException.Internal.class)
                    .hasMessageContaining("out of bounds");
        }

        assertThat(floats(infer(request("adder", 1, 0, 0)).get(10, TimeUnit.SECONDS))).containsExactly(11f, 11.5f);
        assertThat(engine.loaded).as("never reloaded").hasSize(1);
        assertThat(model.closed).isFalse();
        InstanceStatus status = routes.resolve("adder", null).instances().get(0);
        assertThat(status.reloads()).isZero();
        assertThat(status.healthy()).isTrue();
        assertThat(model.calls.get() - warmUpCalls).as("13 requests and two probes of the warm-up input")
                .isEqualTo(15);
    }

    @Test
    void anInstanceThatFailsItsWarmUpInputTooIsReloaded() throws Exception {
        registry("adder", "", LoadOptions.SERVING);
        FakeModel broken = engine.loaded.get(0);
        broken.beforeInfer = () -> {
            throw new EngineException("the model's weights are gone");
        };
        for (int i = 0; i < 5; i++) {
            assertThat(failure(infer(request("adder", i, 0, 0)))).isInstanceOf(ServingException.Internal.class);
        }

        eventually(() -> engine.loaded.size() == 2 && routes.ready());
        assertThat(broken.closed).isTrue();
        assertThat(floats(infer(request("adder", 1, 0, 0)).get(10, TimeUnit.SECONDS))).containsExactly(11f, 11.5f);
        assertThat(routes.resolve("adder", null).instances().get(0).reloads()).isEqualTo(1);
    }

    @Test
    void aVersionWhoseInstancesAreAllReloadingIsNotReadyUntilOneIsBack() throws Exception {
        registry("adder", "");
        CountDownLatch reloadMayFinish = engine.holdLoads();
        FakeModel broken = engine.loaded.get(0);
        for (int i = 0; i < 5; i++) {
            broken.failNext.set("device lost");
            assertThat(failure(infer(request("adder", i, 0, 0)))).isInstanceOf(ServingException.Internal.class);
        }

        eventually(() -> routes.resolve("adder", null).state() == ModelState.LOADING);
        assertThat(routes.ready()).isFalse();
        assertThat(routes.resolve("adder", null).error()).contains("being reloaded").contains("device lost");
        assertThat(failure(infer(request("adder", 9, 0, 0))))
                .isInstanceOf(ServingException.NotReady.class)
                .hasMessageContaining("adder/1 is not ready");

        reloadMayFinish.countDown();
        eventually(() -> routes.ready());
        assertThat(routes.resolve("adder", null).state()).isEqualTo(ModelState.READY);
        assertThat(floats(infer(request("adder", 1, 0, 0)).get(10, TimeUnit.SECONDS))).containsExactly(11f, 11.5f);
        assertThat(engine.loaded).hasSize(2);
        assertThat(broken.closed).isTrue();
        assertThat(routes.resolve("adder", null).instances().get(0).reloads()).isEqualTo(1);
    }
}
