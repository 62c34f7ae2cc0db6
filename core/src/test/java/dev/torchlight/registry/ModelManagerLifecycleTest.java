package dev.torchlight.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.api.DataType;
import dev.torchlight.api.InferenceRequest;
import dev.torchlight.api.InferenceResponse;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.HandlerSpec;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.engine.Placement;
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
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading, reloading, swapping, draining, scaling and warming up model versions, on a fake engine. */
class ModelManagerLifecycleTest {
    private static final String CONFIG = """
            name: m
            platform: torchscript
            max_batch_size: 4
            inputs:
              - {name: x, datatype: FP32, shape: [2]}
            outputs:
              - {name: y, datatype: FP32, shape: [2]}
            """;

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

    private void config(String text) throws IOException {
        Files.createDirectories(repo.resolve("m"));
        Files.writeString(repo.resolve("m").resolve(ModelSource.CONFIG_FILE), text);
    }

    /** Writes a version whose model adds {@code delta}; a new mtime makes a rewrite visible at once. */
    private void version(long version, String delta) throws IOException {
        Path dir = Files.createDirectories(repo.resolve("m").resolve(Long.toString(version)));
        Path file = dir.resolve(ModelSource.MODEL_FILE);
        boolean existed = Files.exists(file);
        Files.writeString(file, delta);
        if (existed) {
            Files.setLastModifiedTime(file, FileTime.fromMillis(Files.getLastModifiedTime(file).toMillis() + 10_000));
        }
    }

    /** Another model, like {@code m}, with one version adding {@code delta}. */
    private void writeModel(String name, String delta) throws IOException {
        Path dir = Files.createDirectories(repo.resolve(name).resolve("1"));
        Files.writeString(repo.resolve(name).resolve(ModelSource.CONFIG_FILE), CONFIG.replace("name: m", "name: " + name));
        Files.writeString(dir.resolve(ModelSource.MODEL_FILE), delta);
    }

    private ModelSource source() {
        return new ModelRepository(repo).source("m");
    }

    private ModelManager registry(boolean warmUp) {
        registry = new ModelManager(engine, NanoClock.SYSTEM, warmUp ? LoadOptions.SERVING
                : LoadOptions.SERVING.withoutWarmUp());
        routes = registry.routes();
        return registry;
    }

    private static InferenceRequest request() {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1).putFloat(2).flip();
        return new InferenceRequest("r", List.of(new Tensor("x", DataType.FP32, new long[] {1, 2}, b)), List.of(), 0, 0);
    }

    private CompletableFuture<InferenceResponse> infer(Long version) {
        return FrontEnd.infer(routes, "m", version, request());
    }

    /** The first output element minus the input's 1: the answering model's delta. */
    private float delta(Long version) throws Exception {
        InferenceResponse response = infer(version).get(10, TimeUnit.SECONDS);
        return response.outputs().get(0).data().getFloat(0) - 1;
    }

    @Test
    void aChangedVersionIsSwappedInAndTheOldCopyReleased() throws Exception {
        config(CONFIG);
        version(1, "10");
        registry(false).load(source());
        FakeModel first = engine.loaded.get(0);
        assertThat(delta(null)).isEqualTo(10);

        version(1, "20");
        LoadOutcome outcome = registry.reconcile(new ModelRepository(repo).scan(List.of())).get(0);

        assertThat(outcome.ok()).isTrue();
        assertThat(outcome.loaded()).containsExactly(1L);
        assertThat(delta(null)).isEqualTo(20);
        assertThat(first.closed).as("the replaced copy is released").isTrue();
    }

    @Test
    void unchangedFilesAreNotReloaded() throws Exception {
        config(CONFIG);
        version(1, "10");
        registry(false).load(source());

        assertThat(registry.reconcile(new ModelRepository(repo).scan(List.of()))).isEmpty();
        assertThat(engine.loaded).hasSize(1);
    }

    @Test
    void aVersionThatFailsToReloadLeavesTheOldCopyServing() throws Exception {
        config(CONFIG);
        version(1, "10");
        registry(false).load(source());

        version(1, "fail: truncated upload");
        List<LoadOutcome> outcomes = registry.reconcile(new ModelRepository(repo).scan(List.of()));

        assertThat(outcomes).singleElement().satisfies(o -> {
            assertThat(o.ok()).isFalse();
            assertThat(o.failures()).singleElement().asString().contains("truncated upload").contains("keeps serving");
            assertThat(o.serving()).containsExactly(1L);
        });
        assertThat(delta(null)).isEqualTo(10);
        assertThat(routes.model("m").error()).contains("truncated upload");
        assertThat(routes.ready()).isTrue();
        assertThat(registry.reconcile(new ModelRepository(repo).scan(List.of())))
                .as("the same broken files are not retried every poll").isEmpty();
    }

    @Test
    void aBrokenConfigOnReloadLeavesTheLoadedVersionsServing() throws Exception {
        config(CONFIG);
        version(1, "10");
        registry(false).load(source());

        config(CONFIG + "colour: blue\n");
        Files.setLastModifiedTime(repo.resolve("m/config.yaml"), FileTime.fromMillis(System.currentTimeMillis() + 20_000));
        LoadOutcome outcome = registry.load(source());

        assertThat(outcome.failures()).singleElement().asString().contains("colour").contains("keep serving");
        assertThat(delta(null)).isEqualTo(10);
    }

    @Test
    void latestPolicyServesTheNewestVersionsAndRetiresOlderOnes() throws Exception {
        config(CONFIG + "version_policy: {latest: 1}\n");
        version(1, "10");
        version(2, "20");
        registry(false).load(source());
        assertThat(routes.model("m").versionNumbers()).containsExactly(2L);
        FakeModel v2 = engine.loaded.get(0);

        version(3, "30");
        registry.reconcile(new ModelRepository(repo).scan(List.of()));

        assertThat(routes.model("m").versionNumbers()).containsExactly(3L);
        assertThat(delta(null)).isEqualTo(30);
        assertThat(v2.closed).isTrue();
        assertThatThrownBy(() -> routes.resolve("m", 2L)).isInstanceOf(ServingException.NotFound.class);
    }

    @Test
    void specificPolicyServesOnlyTheNamedVersions() throws Exception {
        config(CONFIG + "version_policy: {specific: [1, 3]}\n");
        version(1, "10");
        version(2, "20");
        version(3, "30");
        registry(false).load(source());
        assertThat(routes.model("m").versionNumbers()).containsExactly(1L, 3L);
    }

    @Test
    void queuedAndRunningRequestsOfAReplacedVersionAreAnswered() throws Exception {
        config(CONFIG);
        version(1, "10");
        registry(false).load(source());
        FakeModel first = engine.loaded.get(0);
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        first.beforeInfer = () -> {
            running.countDown();
            await(release);
        };
        CompletableFuture<InferenceResponse> inFlight = infer(null);
        assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
        CompletableFuture<InferenceResponse> queued = infer(null);

        version(1, "20");
        CompletableFuture<List<LoadOutcome>> swap = CompletableFuture.supplyAsync(
                () -> registry.reconcile(new ModelRepository(repo).scan(List.of())));
        // The new copy serves while the old one still drains.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        // The fresh copy has queued nothing yet; the old one has: that tells them apart.
        while (routes.resolve("m", null).stats().queueCount() > 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(delta(null)).isEqualTo(20);
        assertThat(first.closed).isFalse();
        release.countDown();

        assertThat(inFlight.get(10, TimeUnit.SECONDS).outputs().get(0).data().getFloat(0)).isEqualTo(11);
        assertThat(queued.get(10, TimeUnit.SECONDS).outputs().get(0).data().getFloat(0)).isEqualTo(11);
        swap.get(10, TimeUnit.SECONDS);
        assertThat(first.closed).isTrue();
    }

    @Test
    void aRequestRunsOnTheVersionItResolvedEvenWhenASwapReplacesItMeanwhile() throws Exception {
        config(CONFIG);
        version(1, "10");
        registry(false).load(source());
        FakeModel old = engine.loaded.get(0);
        // Resolved and held, as a front end holds it while it decodes the body.
        ServedVersion held = routes.acquire("m", null);

        version(1, "20");
        CompletableFuture<List<LoadOutcome>> swap = CompletableFuture.supplyAsync(
                () -> registry.reconcile(new ModelRepository(repo).scan(List.of())));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (routes.resolve("m", null) == held && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(delta(null)).as("new requests go to the new copy").isEqualTo(20);
        assertThat(swap).as("the old copy waits for the request that holds it").isNotDone();
        assertThat(held.state()).isEqualTo(ModelState.UNLOADED);

        InferenceResponse answer = held.infer(request()).get(10, TimeUnit.SECONDS);
        assertThat(answer.outputs().get(0).data().getFloat(0) - 1).as("answered by the version it resolved")
                .isEqualTo(10);
        assertThat(old.closed).isFalse();
        held.release();

        assertThat(swap.get(10, TimeUnit.SECONDS)).singleElement().satisfies(o -> assertThat(o.ok()).isTrue());
        assertThat(old.closed).isTrue();
        assertThat(held.hold()).as("a retired version cannot be held again").isFalse();
    }

    @Test
    void modelsLoadInParallel() throws Exception {
        writeModel("a", "10");
        writeModel("b", "20");
        CountDownLatch bothLoading = new CountDownLatch(2);
        engine.beforeLoad = () -> {
            bothLoading.countDown();
            await(bothLoading); // one load after the other would wait here for 10 s
        };
        registry(false);

        long start = System.nanoTime();
        List<LoadOutcome> outcomes = registry.loadAll(new ModelRepository(repo).scan(List.of("a", "b")));

        assertThat(bothLoading.getCount()).isZero();
        assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(5));
        assertThat(outcomes).extracting(LoadOutcome::model).containsExactly("a", "b");
        assertThat(outcomes).allSatisfy(o -> assertThat(o.ok()).isTrue());
        assertThat(routes.ready()).isTrue();
    }

    @Test
    void aSlowLoadBlocksNeitherInferenceNorChangesToOtherModels() throws Exception {
        config(CONFIG);
        version(1, "10");
        version(2, "20");
        registry(false).load(source());
        writeModel("slow", "30");
        CountDownLatch loading = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        engine.beforeLoad = () -> {
            loading.countDown();
            await(finish);
        };
        CompletableFuture<LoadOutcome> slow = CompletableFuture.supplyAsync(
                () -> registry.load(new ModelRepository(repo).source("slow")));
        assertThat(loading.await(10, TimeUnit.SECONDS)).isTrue();
        engine.beforeLoad = () -> { };

        assertThat(delta(null)).isEqualTo(20);
        registry.setDefault("m", 1);
        assertThat(delta(null)).isEqualTo(10);
        assertThat(registry.scale("m", 2).ok()).isTrue();
        registry.unload("m", 2);
        assertThat(slow).isNotDone();

        finish.countDown();
        assertThat(slow.get(10, TimeUnit.SECONDS).ok()).isTrue();
    }

    @Test
    void unloadSetDefaultAndScale() throws Exception {
        config(CONFIG);
        version(1, "10");
        version(2, "20");
        registry(false).load(source());
        assertThat(delta(null)).isEqualTo(20);

        registry.setDefault("m", 1);
        assertThat(delta(null)).isEqualTo(10);
        assertThat(routes.model("m").defaultServed().version()).isEqualTo(1L);

        LoadOutcome scaled = registry.scale("m", 3);
        assertThat(scaled.ok()).isTrue();
        assertThat(routes.resolve("m", 1L).instances()).hasSize(3);
        assertThat(routes.resolve("m", 2L).instances()).hasSize(3);
        assertThat(delta(null)).as("the default survives scaling").isEqualTo(10);

        registry.unload("m", 1);
        assertThat(delta(null)).isEqualTo(20);
        registry.unload("m");
        assertThat(registry.contains("m")).isFalse();
        assertThat(engine.loaded).allSatisfy(m -> assertThat(m.closed).isTrue());
        assertThatThrownBy(() -> registry.unload("m")).isInstanceOf(ServingException.NotFound.class);
    }

    @Test
    void scalingKeepsTheHandlerAndEveryInstanceGroup() throws Exception {
        engine.gpus = 2;
        config(CONFIG + """
                handler: {class: com.example.Scorer, jar: scorer.jar}
                instance_group:
                  - {kind: CPU, count: 1}
                  - {kind: GPU, devices: [1], count: 1}
                """);
        version(1, "10");
        ModelConfig before = registry(false).load(source()).ok() ? routes.resolve("m", null).config() : null;
        assertThat(before).isNotNull();
        assertThat(engine.placements).containsExactlyInAnyOrder(Placement.CPU, Placement.gpu(1));
        engine.placements.clear();

        assertThat(registry.scale("m", 4).ok()).isTrue();

        ModelConfig after = routes.resolve("m", null).config();
        assertThat(after.handler()).isEqualTo(new HandlerSpec.Custom("com.example.Scorer", "scorer.jar"));
        assertThat(after.instanceGroups()).isEqualTo(before.instanceGroups()).hasSize(2);
        assertThat(routes.resolve("m", null).instances()).extracting(InstanceStatus::placement)
                .containsExactly(Placement.CPU, Placement.gpu(1), Placement.CPU, Placement.gpu(1));
        assertThat(engine.placements).containsExactlyInAnyOrder(Placement.CPU, Placement.gpu(1), Placement.CPU,
                Placement.gpu(1));
        assertThat(delta(null)).isEqualTo(10);
    }

    @Test
    void registeringWithAnInstanceCountKeepsTheHandler() throws Exception {
        config(CONFIG + "handler: {class: com.example.Scorer, jar: scorer.jar}\n");
        version(1, "10");

        assertThat(registry(false).register(source(), 2).ok()).isTrue();

        assertThat(routes.resolve("m", null).config().handler()).isInstanceOf(HandlerSpec.Custom.class);
        assertThat(routes.resolve("m", null).instances()).hasSize(2);
    }

    @Test
    void versionsMayCarryPublicNamesAndAreFoundByNameOrNumber() throws Exception {
        config(CONFIG);
        version(1, "10");
        version(2, "20");
        Files.writeString(repo.resolve("m/1/version.txt"), "1.0\n");
        Files.writeString(repo.resolve("m/2/version.txt"), "2.0-beta");
        registry(false).load(source());

        ServedModel model = routes.model("m");
        assertThat(model.versionNames()).containsExactly("1.0", "2.0-beta");
        assertThat(model.versionNamed("1.0").version()).isEqualTo(1);
        assertThat(model.versionNamed("2").name()).isEqualTo("2.0-beta");
        assertThatThrownBy(() -> model.versionNamed("3.0")).isInstanceOf(ServingException.NotFound.class)
                .hasMessage("model 'm' has no version '3.0'; versions: [1.0, 2.0-beta]");
    }

    @Test
    void aVersionNameThatCouldNameAnotherVersionFailsTheModelNamingTheFile() throws Exception {
        config(CONFIG);
        version(1, "10");
        version(2, "20");
        Files.writeString(repo.resolve("m/2/version.txt"), "1");

        LoadOutcome outcome = registry(false).load(source());

        assertThat(outcome.ok()).isFalse();
        assertThat(routes.model("m").error()).contains(repo.resolve("m/2/version.txt").toString())
                .contains("'1' is a number other than the folder's");
        Files.writeString(repo.resolve("m/2/version.txt"), "1.0");
        Files.writeString(repo.resolve("m/1/version.txt"), "1.0");
        assertThat(registry.load(source()).failures()).singleElement().asString()
                .contains("version 2 is named '1.0', as is version 1");
    }

    @Test
    void versionNamesThatManagementPathsReserveFailTheModel() throws Exception {
        config(CONFIG);
        version(1, "10");
        for (String reserved : List.of("all", "traffic")) {
            Files.writeString(repo.resolve("m/1/version.txt"), reserved);
            ModelManager manager = registry(false);
            assertThat(manager.load(source()).failures()).singleElement().asString()
                    .contains("the version's name '" + reserved + "' is '" + reserved + "'");
            manager.close();
        }
    }

    @Test
    void aTrafficSplitSurvivesReloadsAndDropsVersionsThatGo() throws Exception {
        config(CONFIG);
        version(1, "10");
        version(2, "20");
        registry(false).load(source());
        registry.setTraffic("m", java.util.Map.of("1", 80, "2", 20), "x-user-id");

        version(1, "11"); // a changed file: version 1 is reloaded and swapped in
        ServedVersion before = routes.resolve("m", 1L);
        registry.load(source());
        assertThat(routes.resolve("m", 1L)).isNotSameAs(before);
        assertThat(routes.model("m").traffic().weights()).containsExactly(java.util.Map.entry(1L, 80),
                java.util.Map.entry(2L, 20));
        assertThat(routes.model("m").traffic().stickyHeader()).isEqualTo("x-user-id");

        registry.unload("m", 2);
        assertThat(routes.model("m").traffic().weights()).containsExactly(java.util.Map.entry(1L, 80));
        registry.clearTraffic("m");
        assertThat(routes.model("m").traffic()).isNull();
        assertThatThrownBy(() -> registry.setTraffic("nope", java.util.Map.of("1", 1), null))
                .isInstanceOf(ServingException.NotFound.class);
    }

    @Test
    void oneVersionScalesAloneAndTheOthersKeepTheirInstances() throws Exception {
        config(CONFIG);
        version(1, "10");
        version(2, "20");
        registry(false).load(source());
        ServedVersion one = routes.resolve("m", 1L);

        assertThat(registry.scale("m", 2, 3).loaded()).containsExactly(2L);

        assertThat(routes.resolve("m", 1L)).as("untouched").isSameAs(one);
        assertThat(routes.resolve("m", 2L).instances()).hasSize(3);
        assertThat(registry.scale("m", 1).loaded()).as("every version, again").containsExactly(1L, 2L);
        assertThat(routes.resolve("m", 2L).instances()).hasSize(1);
        assertThatThrownBy(() -> registry.scale("m", 7, 2)).isInstanceOf(ServingException.NotFound.class);
    }

    @Test
    void aModelMayBeServedUnderAnotherName() throws Exception {
        config(CONFIG);
        version(1, "10");

        assertThat(registry(false).load(source().named("renamed")).ok()).isTrue();

        assertThat(routes.resolve("renamed", null).config().name()).isEqualTo("renamed");
        assertThat(FrontEnd.infer(routes, "renamed", null, request()).get(10, TimeUnit.SECONDS).model())
                .isEqualTo("renamed");
        assertThat(registry.contains("m")).isFalse();
    }

    @Test
    void aNewModelIsListedAsLoadingWhileItsFirstLoadRuns() throws Exception {
        config(CONFIG);
        version(1, "10");
        CountDownLatch loading = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        engine.beforeLoad = () -> {
            loading.countDown();
            await(finish);
        };
        registry(false);
        CompletableFuture<LoadOutcome> load = CompletableFuture.supplyAsync(() -> registry.load(source()));
        assertThat(loading.await(10, TimeUnit.SECONDS)).isTrue();

        ServedVersion placeholder = routes.resolve("m", null);
        assertThat(placeholder.state()).isEqualTo(ModelState.LOADING);
        assertThat(routes.ready()).isFalse();
        assertThatThrownBy(() -> FrontEnd.infer(routes, "m", null, request()).get(10, TimeUnit.SECONDS))
                .hasCauseInstanceOf(ServingException.NotReady.class).hasMessageContaining("is loading");

        finish.countDown();
        assertThat(load.get(10, TimeUnit.SECONDS).ok()).isTrue();
        assertThat(routes.resolve("m", null).state()).isEqualTo(ModelState.READY);
    }

    @Test
    void readinessTurnsFalseWhenShutdownBeginsWhileRequestsStillRun() throws Exception {
        config(CONFIG);
        version(1, "10");
        registry(false).load(source());
        assertThat(routes.ready()).isTrue();

        registry.beginShutdown();

        assertThat(routes.ready()).isFalse();
        assertThat(delta(null)).isEqualTo(10);
    }

    @Test
    void aFolderThatDisappearsIsUnloaded() throws Exception {
        config(CONFIG);
        version(1, "10");
        registry(false).reconcile(new ModelRepository(repo).scan(List.of()));
        assertThat(registry.contains("m")).isTrue();

        registry.reconcile(List.of());

        assertThat(registry.contains("m")).isFalse();
        assertThat(engine.loaded.get(0).closed).isTrue();
    }

    @Test
    void warmUpRunsEveryBatchSizeOnEveryInstance() throws Exception {
        config(CONFIG + "instance_group: [{count: 2}]\n");
        version(1, "10");
        registry(true).load(source());

        assertThat(engine.loaded).hasSize(2).allSatisfy(m -> assertThat(m.batchSizes).containsExactly(1L, 2L, 3L, 4L));
    }

    @Test
    void warmUpUsesTheConfiguredSamples() throws Exception {
        config(CONFIG + "warmup:\n  - x: {shape: [3, 2], file: warmup/x.bin}\n");
        Files.createDirectories(repo.resolve("m/warmup"));
        Files.write(repo.resolve("m/warmup/x.bin"), new byte[3 * 2 * 4]);
        version(1, "10");
        registry(true).load(source());

        assertThat(engine.loaded.get(0).batchSizes).containsExactly(3L);
    }

    @Test
    void aFailedWarmUpFailsTheLoad() throws Exception {
        config(CONFIG + "warmup:\n  - x: {shape: [3, 2], file: warmup/x.bin}\n");
        Files.createDirectories(repo.resolve("m/warmup"));
        Files.write(repo.resolve("m/warmup/x.bin"), new byte[5]);
        version(1, "10");
        LoadOutcome outcome = registry(true).load(source());

        assertThat(outcome.failures()).singleElement().asString().contains("warm-up").contains("expected 24");
        assertThat(engine.loaded).allSatisfy(m -> assertThat(m.closed).isTrue());
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
