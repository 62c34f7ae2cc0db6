package dev.torchlight.engine.libtorch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.engine.EngineException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Which instances load a module and which share one, with handles that are strings. */
class SharedModulesTest {
    private final AtomicInteger loads = new AtomicInteger();
    private final List<String> freed = new CopyOnWriteArrayList<>();
    private volatile String refusal;
    private final SharedModules<String> modules = new SharedModules<>(from -> {
        if (refusal != null) {
            throw new EngineException(refusal);
        }
        return from + "+shared";
    }, freed::add);

    private String load() {
        return "loaded" + loads.incrementAndGet();
    }

    @Test
    void theFirstInstanceLoadsAndTheOthersShareItsModule() {
        String first = modules.acquire("a", this::load, "m");
        String second = modules.acquire("a", this::load, "m");
        String other = modules.acquire("b", this::load, "m");

        assertThat(first).isEqualTo("loaded1");
        assertThat(second).isEqualTo("loaded1+shared");
        assertThat(other).as("another file is another module").isEqualTo("loaded2");
        assertThat(modules.handles("a")).isEqualTo(2);
        assertThat(modules.loaded("a")).isEqualTo(1);
    }

    @Test
    void theModuleLivesWhileAnyHandleDoesAndIsLoadedAgainAfterTheLast() {
        String first = modules.acquire("a", this::load, "m");
        String second = modules.acquire("a", this::load, "m");

        modules.release("a", first);
        String third = modules.acquire("a", this::load, "m");
        assertThat(third).as("shared from the handle still alive").isEqualTo("loaded1+shared+shared");
        modules.release("a", second);
        modules.release("a", third);

        assertThat(freed).containsExactly(first, second, third);
        assertThat(modules.handles("a")).isZero();
        assertThat(modules.acquire("a", this::load, "m")).isEqualTo("loaded2");
    }

    @Test
    void aModuleThatCannotBeSharedIsLoadedByEachInstance() {
        refusal = "forward sets attribute 'last'";
        String first = modules.acquire("a", this::load, "m");
        String second = modules.acquire("a", this::load, "m");

        assertThat(first).isEqualTo("loaded1");
        assertThat(second).isEqualTo("loaded2");
        assertThat(modules.handles("a")).isEqualTo(2);
        assertThat(modules.loaded("a")).isEqualTo(2);
    }

    @Test
    void anInstanceThatAsksWhileTheFirstLoadsWaitsAndShares() throws Exception {
        CountDownLatch loading = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        CompletableFuture<String> first = CompletableFuture.supplyAsync(() -> modules.acquire("a", () -> {
            loading.countDown();
            await(finish);
            return load();
        }, "m"));
        assertThat(loading.await(10, TimeUnit.SECONDS)).isTrue();
        CompletableFuture<String> second = CompletableFuture.supplyAsync(() -> modules.acquire("a", this::load, "m"));
        finish.countDown();

        assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("loaded1");
        assertThat(second.get(10, TimeUnit.SECONDS)).isEqualTo("loaded1+shared");
        assertThat(loads).hasValue(1);
    }

    @Test
    void aFailedLoadLeavesNothingBehindAndTheNextOneTriesAgain() {
        assertThatThrownBy(() -> modules.acquire("a", () -> {
            throw new EngineException("no such file");
        }, "m")).hasMessage("no such file");

        assertThat(modules.handles("a")).isZero();
        assertThat(modules.acquire("a", this::load, "m")).isEqualTo("loaded1");
    }

    @Test
    void releasingAHandleItDoesNotKnowIsABug() {
        modules.acquire("a", this::load, "m");
        assertThatThrownBy(() -> modules.release("a", "stranger")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> modules.release("b", "loaded1")).isInstanceOf(IllegalStateException.class);
    }

    private static void await(CountDownLatch latch) {
        try {
            assertThat(latch.await(10, TimeUnit.SECONDS)).isTrue();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
