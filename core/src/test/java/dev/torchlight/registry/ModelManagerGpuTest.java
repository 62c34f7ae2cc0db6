package dev.torchlight.registry;

import static dev.torchlight.registry.Waits.eventually;
import static dev.torchlight.registry.Waits.failure;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.api.DataType;
import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.Precision;
import dev.torchlight.engine.EngineException;
import dev.torchlight.engine.Placement;
import dev.torchlight.registry.FakeEngine.FakeModel;
import dev.torchlight.repository.ModelRepository;
import dev.torchlight.repository.ModelSource;
import dev.torchlight.scheduler.InstanceStatus;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GPU serving as the registry and scheduler see it, driven through the engine interface with a fake
 * engine that claims GPUs, accounts their memory and can be told to fail: placement on devices, the
 * model-placed kind, precision reaching the engine, the free-memory check before a load, device
 * faults reloading the instance, and unloading giving the memory back.
 */
class ModelManagerGpuTest {
    private static final String CONFIG = """
            name: %s
            platform: torchscript
            max_batch_size: 4
            inputs:
              - {name: a, datatype: FP32, shape: [2]}
            outputs:
              - {name: a_out, datatype: FP32, shape: [2]}
            %s
            """;
    private static final long MIB = 1L << 20;

    @TempDir
    Path repo;

    private final FakeEngine engine = new FakeEngine();
    private ModelManager registry;
    private ModelService routes;

    @AfterEach
    void close() {
        if (registry != null) {
            registry.close();
        }
    }

    /** Loads model {@code name} whose model.pt adds 10 and is {@code fileBytes} long. */
    private void load(String name, String extra, long fileBytes) throws IOException {
        Path dir = Files.createDirectories(repo.resolve(name));
        Files.writeString(dir.resolve(ModelSource.CONFIG_FILE), CONFIG.formatted(name, extra));
        // The fake engine reads the number and ignores the padding; the padding is the "weights".
        String body = "10" + " ".repeat((int) Math.max(0, fileBytes - 2));
        Files.writeString(Files.createDirectories(dir.resolve("1")).resolve(ModelSource.MODEL_FILE), body);
        if (registry == null) {
            registry = new ModelManager(engine, System::nanoTime, LoadOptions.SERVING.withoutWarmUp());
            routes = registry.routes();
        }
        registry.load(new ModelRepository(repo).source(name));
    }

    private CompletableFuture<InferenceResponse> infer(String model, float first) {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(first).putFloat(first + 0.5f);
        Tensor a = new Tensor("a", DataType.FP32, new long[] {1, 2}, b.flip());
        return FrontEnd.infer(routes, model, null, new InferenceRequest("r", List.of(a), List.of(), 0, 0));
    }

    private static float first(InferenceResponse response) {
        return response.outputs().get(0).data().getFloat(0);
    }



    @Test
    void countInstancesRunOnEachListedGpuWithAStreamEach() throws Exception {
        engine.gpus = 3;
        load("adder", "instance_group: [{kind: GPU, devices: [0, 2], count: 2}]", 2);
        List<InstanceStatus> instances = routes.resolve("adder", null).instances();
        assertThat(instances).extracting(InstanceStatus::placement)
                .containsExactly(Placement.gpu(0), Placement.gpu(2), Placement.gpu(0), Placement.gpu(2));
        assertThat(instances).extracting(InstanceStatus::stream).doesNotHaveDuplicates()
                .allSatisfy(s -> assertThat(s).matches("cuda:[02]/stream \\d+"));
        assertThat(first(infer("adder", 1).get(10, TimeUnit.SECONDS))).isEqualTo(11f);
    }

    @Test
    void everyGpuWhenTheGroupListsNone() throws Exception {
        engine.gpus = 2;
        load("adder", "instance_group: [{kind: GPU}]", 2);
        assertThat(engine.placements).containsExactlyInAnyOrder(Placement.gpu(0), Placement.gpu(1));
    }

    @Test
    void kindModelLoadsTheModelAsSavedWithoutAGpuOfItsOwn() throws Exception {
        engine.gpus = 2;
        load("split", "instance_group: [{kind: MODEL, count: 1}]", 2);
        assertThat(engine.placements).containsExactly(Placement.MODEL);
        assertThat(routes.resolve("split", null).instances().get(0).placement().toString()).isEqualTo("model");
        assertThat(first(infer("split", 1).get(10, TimeUnit.SECONDS))).isEqualTo(11f);
    }

    @Test
    void precisionReachesTheEngineAndClientsKeepTheDeclaredTypes() throws Exception {
        engine.gpus = 1;
        load("half", "instance_group: [{kind: GPU}]\nprecision: fp16\ncuda_graphs: true", 2);
        FakeModel model = engine.loaded.get(0);
        assertThat(model.config.engine().precision()).isEqualTo(Precision.FP16);
        assertThat(model.config.engine().gpu().cudaGraphs()).isTrue();
        InferenceResponse response = infer("half", 1).get(10, TimeUnit.SECONDS);
        assertThat(response.outputs().get(0).dataType()).isEqualTo(DataType.FP32);
    }

    @Test
    void anInstanceTheGpuCannotHoldIsRefusedBeforeLoadingAndOtherModelsServe() throws Exception {
        engine.gpus = 1;
        engine.deviceTotalBytes = 100 * MIB;
        load("small", "instance_group: [{kind: GPU}]", 10 * MIB);
        // Each 45 MiB instance needs 54 MiB with the headroom: the first fits in the 90 MiB free, the
        // second not in the 45 MiB left.
        load("big", "instance_group: [{kind: GPU, count: 2}]", 45 * MIB);

        ServedVersion big = routes.resolve("big", null);
        assertThat(big.state()).isEqualTo(ModelState.FAILED);
        assertThat(big.error())
                .contains("model 'big': not loading an instance on cuda:0")
                .contains("it needs about 54 MiB there")
                .contains("only 45 MiB of its 100 MiB are free");
        assertThat(first(infer("small", 1).get(10, TimeUnit.SECONDS))).isEqualTo(11f);
        assertThat(engine.used(0)).as("nothing of the refused models stays on the GPU").isEqualTo(10 * MIB);
    }

    @Test
    void aSixteenBitModelNeedsHalfTheMemory() throws Exception {
        engine.gpus = 1;
        engine.deviceTotalBytes = 100 * MIB;
        load("half", "instance_group: [{kind: GPU, count: 2}]\nprecision: bf16", 70 * MIB);
        assertThat(routes.resolve("half", null).state()).isEqualTo(ModelState.READY);
        assertThat(engine.used(0)).isEqualTo(70 * MIB);
    }

    @Test
    void aDeviceFaultReloadsTheInstanceAtOnceAndTheModelIsNotReadyUntilItIsBack() throws Exception {
        engine.gpus = 1;
        load("adder", "instance_group: [{kind: GPU}]", 2);
        CountDownLatch reloadMayFinish = engine.holdLoads();
        FakeModel broken = engine.loaded.get(0);
        broken.throwNext.set(new EngineException("CUDA error: an illegal memory access was encountered", null,
                EngineException.Kind.DEVICE_FAULT));

        assertThat(failure(infer("adder", 1))).isInstanceOf(ServingException.Internal.class)
                .hasMessageContaining("illegal memory access").hasMessageContaining("being loaded again");
        eventually(() -> routes.resolve("adder", null).state() == ModelState.LOADING);
        assertThat(broken.closed).as("the broken model is released before the new one loads").isTrue();
        assertThat(failure(infer("adder", 2))).isInstanceOf(ServingException.NotReady.class);

        reloadMayFinish.countDown();
        eventually(() -> routes.resolve("adder", null).state() == ModelState.READY);
        assertThat(first(infer("adder", 1).get(10, TimeUnit.SECONDS))).isEqualTo(11f);
        assertThat(routes.resolve("adder", null).instances().get(0).reloads()).isEqualTo(1);
    }

    @Test
    void aDeviceFaultDuringOutOfMemoryBisectionRunsNothingMoreOfTheBatch() throws Exception {
        engine.gpus = 1;
        load("adder", "instance_group: [{kind: GPU}]\ndynamic_batching: {max_queue_delay_us: 60000000}", 2);
        FakeModel model = engine.loaded.get(0);
        // The full batch runs out of memory; the first half of the split then faults the device.
        model.throwNext.set(new EngineException("CUDA out of memory", null, EngineException.Kind.OUT_OF_MEMORY));
        model.beforeInfer = () -> model.throwNext.compareAndSet(null, new EngineException(
                "CUDA error: device-side assert triggered", null, EngineException.Kind.DEVICE_FAULT));
        List<CompletableFuture<InferenceResponse>> batch = List.of(infer("adder", 1), infer("adder", 2),
                infer("adder", 3), infer("adder", 4));
        for (CompletableFuture<InferenceResponse> f : batch) {
            assertThat(failure(f)).isInstanceOf(ServingException.class);
        }
        assertThat(model.calls.get()).as("the full batch, then its first half only").isEqualTo(2);
    }

    @Test
    void unloadingGivesTheGpuMemoryBack() throws Exception {
        engine.gpus = 2;
        engine.deviceTotalBytes = 100 * MIB;
        load("adder", "instance_group: [{kind: GPU, count: 2}]", 10 * MIB);
        assertThat(engine.used(0) + engine.used(1)).isEqualTo(40 * MIB);

        registry.unload("adder");
        eventually(() -> engine.used(0) == 0 && engine.used(1) == 0);
        assertThat(engine.loaded).allMatch(m -> m.closed);
    }
}
