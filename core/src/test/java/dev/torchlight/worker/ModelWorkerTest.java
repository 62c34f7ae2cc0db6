package dev.torchlight.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.torchlight.api.DataType;
import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.engine.EngineException;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.metrics.ModelStats;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class ModelWorkerTest {

    /** Records each call's first input name and thread; behaviour per call is supplied by the test. */
    private static final class RecordingModel implements LoadedModel {
        final List<String> seen = new CopyOnWriteArrayList<>();
        final List<String> threads = new CopyOnWriteArrayList<>();
        final Function<List<Tensor>, List<Tensor>> behaviour;
        volatile boolean closed;
        volatile int callsAfterClose;

        RecordingModel(Function<List<Tensor>, List<Tensor>> behaviour) {
            this.behaviour = behaviour;
        }

        @Override
        public List<Tensor> infer(List<Tensor> inputs) {
            if (closed) {
                callsAfterClose++;
            }
            seen.add(inputs.get(0).name());
            threads.add(Thread.currentThread().getName());
            return behaviour.apply(inputs);
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    private static Tensor tensor(String name) {
        return new Tensor(name, DataType.UINT8, new long[] {1}, ByteBuffer.allocate(1));
    }

    private static Throwable cause(CompletableFuture<?> future) {
        Throwable thrown = catchThrowable(() -> future.get(10, TimeUnit.SECONDS));
        assertThat(thrown).isInstanceOf(ExecutionException.class);
        return thrown.getCause();
    }

    @Test
    void runsJobsInArrivalOrderOnItsOwnThread() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        RecordingModel model = new RecordingModel(inputs -> {
            if (inputs.get(0).name().equals("t0")) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }
            return inputs;
        });
        List<CompletableFuture<List<Tensor>>> futures = new ArrayList<>();
        try (ModelWorker worker = new ModelWorker("m/1#0", model, new ModelStats())) {
            for (int i = 0; i < 5; i++) {
                futures.add(worker.submit(List.of(tensor("t" + i)), 1));
            }
            assertThat(futures.get(4)).isNotDone();
            release.countDown();
            for (int i = 0; i < 5; i++) {
                assertThat(futures.get(i).get(10, TimeUnit.SECONDS).get(0).name()).isEqualTo("t" + i);
            }
        }
        assertThat(model.seen).containsExactly("t0", "t1", "t2", "t3", "t4");
        assertThat(model.threads).containsOnly("worker-m/1#0");
    }

    @Test
    void closeRunsQueuedJobsThenClosesTheModel() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        RecordingModel model = new RecordingModel(inputs -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return inputs;
        });
        ModelWorker worker = new ModelWorker("m/1#0", model, new ModelStats());
        CompletableFuture<List<Tensor>> first = worker.submit(List.of(tensor("a")), 1);
        CompletableFuture<List<Tensor>> second = worker.submit(List.of(tensor("b")), 1);
        release.countDown();

        worker.close();

        assertThat(first).isCompleted();
        assertThat(second).isCompleted();
        assertThat(second.get().get(0).name()).isEqualTo("b");
        assertThat(model.closed).isTrue();
        assertThat(model.callsAfterClose).isZero();
    }

    @Test
    void submitAfterCloseIsNotReady() {
        RecordingModel model = new RecordingModel(inputs -> inputs);
        ModelWorker worker = new ModelWorker("m/1#0", model, new ModelStats());
        worker.close();
        worker.close(); // idempotent

        assertThat(cause(worker.submit(List.of(tensor("late")), 1)))
                .isInstanceOf(ServingException.NotReady.class)
                .hasMessageContaining("m/1#0")
                .hasMessageContaining("shutting down");
        assertThat(model.seen).isEmpty();
    }

    @Test
    void engineExceptionBecomesInternalWithItsMessage() throws Exception {
        RecordingModel model = new RecordingModel(inputs -> {
            if (inputs.get(0).name().equals("bad")) {
                throw new EngineException("expected 3 channels, got 4");
            }
            return inputs;
        });
        try (ModelWorker worker = new ModelWorker("m/2#0", model, new ModelStats())) {
            assertThat(cause(worker.submit(List.of(tensor("bad")), 1)))
                    .isInstanceOf(ServingException.Internal.class)
                    .hasMessageContaining("m/2#0")
                    .hasMessageContaining("expected 3 channels, got 4");
            assertThat(worker.submit(List.of(tensor("good")), 1).get(10, TimeUnit.SECONDS)).hasSize(1);
        }
    }

    @Test
    void unexpectedExceptionBecomesInternalWithoutItsDetails() throws Exception {
        RecordingModel model = new RecordingModel(inputs -> {
            if (inputs.get(0).name().equals("bad")) {
                throw new IllegalStateException("native pointer 0xdeadbeef");
            }
            return inputs;
        });
        try (ModelWorker worker = new ModelWorker("m/1#0", model, new ModelStats())) {
            Throwable cause = cause(worker.submit(List.of(tensor("bad")), 1));
            assertThat(cause).isInstanceOf(ServingException.Internal.class)
                    .hasMessageContaining("internal error")
                    .hasMessageNotContaining("deadbeef");
            assertThat(worker.submit(List.of(tensor("good")), 1).get(10, TimeUnit.SECONDS)).hasSize(1);
        }
    }
}
