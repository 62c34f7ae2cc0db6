package dev.torchlight.scheduler;

import static dev.torchlight.scheduler.Fixtures.longs;
import static dev.torchlight.scheduler.Fixtures.rowsOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.engine.EngineException;
import dev.torchlight.metrics.ModelStats;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.function.LongPredicate;
import org.junit.jupiter.api.Test;

/**
 * One batch on one model, on the test's thread: which runs a failing batch takes, which requests get
 * which answer, and whether the instance is blamed (the value that counts towards its reload).
 */
class BatchExecutorTest {
    private final ScriptedEngine engine = new ScriptedEngine();
    private final ModelStats stats = new ModelStats();
    private final RecordingPolicy policy = new RecordingPolicy();
    private final BatchExecutor executor = new BatchExecutor("m/1", 0, true, BatchLayout.STACKED, stats, new FakeClock(),
            new SafeBatchLimit(), policy);
    private final List<Fixtures.FutureAnswer> answers = new ArrayList<>();

    /** Reports which requests the policy heard of as run or failed, each of which must be told once. */
    private static final class RecordingPolicy implements BatchPolicy {
        int ran;
        int failed;

        @Override
        public Decision decide(RequestQueue queue, long now, int instance, int maxRows) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Decision drain(RequestQueue queue, long now, int maxRows) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void batchRan(int instance, List<PendingRequest> batch, long computeNanos, long endNanos) {
            ran += batch.size();
        }

        @Override
        public void batchFailed(int instance, List<PendingRequest> batch) {
            failed += batch.size();
        }
    }

    /** Requests 1 to n, one row each; the model fails a run holding any request {@code bad} accepts. */
    private List<PendingRequest> batch(int n, LongPredicate bad) {
        engine.behaviour = (model, inputs) -> {
            for (long id : ScriptedEngine.ids(inputs.get(0))) {
                if (bad.test(id)) {
                    throw new EngineException("index " + id + " is out of range");
                }
            }
            return ScriptedEngine.negate(inputs);
        };
        List<PendingRequest> batch = new ArrayList<>();
        for (long id = 1; id <= n; id++) {
            List<Tensor> inputs = List.of(rowsOf(id, 1, 2));
            Fixtures.FutureAnswer answer = new Fixtures.FutureAnswer();
            answers.add(answer);
            batch.add(new PendingRequest(inputs, 1, ShapeKey.of(inputs, true), 1, 0, PendingRequest.NO_DEADLINE,
                    answer));
        }
        return batch;
    }

    private Throwable failureOf(int id) {
        Fixtures.FutureAnswer answer = answers.get(id - 1);
        assertThat(answer).as("request %d answered", id).isDone();
        try {
            answer.join();
        } catch (CompletionException e) {
            return e.getCause();
        }
        throw new AssertionError("request " + id + " succeeded");
    }

    private void assertOwnOutput(int id) {
        Fixtures.FutureAnswer answer = answers.get(id - 1);
        assertThat(answer).as("request %d answered", id).isDone();
        assertThat(longs(answer.join().get(0))).containsExactly((long) -id, 0L);
    }

    @Test
    void oneBadRequestAmongEightFailsAloneAndTheInstanceIsNotBlamed() {
        ScriptedEngine.Model model = (ScriptedEngine.Model) engine.load(null);

        boolean healthy = executor.execute(model, batch(8, id -> id == 5));

        assertThat(healthy).isTrue();
        assertThat(failureOf(5)).isInstanceOf(ServingException.Internal.class)
                .hasMessage("model m/1 failed: index 5 is out of range");
        for (int id : new int[] {1, 2, 3, 4, 6, 7, 8}) {
            assertOwnOutput(id);
        }
        // 8 failed; [1-4] ran, [5-8] failed; [5, 6] failed, [7, 8] ran; [5] failed, [6] ran.
        assertThat(model.runs).containsExactly(8, 4, 4, 2, 2, 1, 1);
        assertThat(stats.snapshot().executionCount()).as("runs that succeeded").isEqualTo(3);
        assertThat(policy.ran).isEqualTo(7);
        assertThat(policy.failed).isEqualTo(1);
    }

    @Test
    void whenBothHalvesFailTooEveryRequestFailsAfterTwoMoreRunsAndTheInstanceIsBlamed() {
        ScriptedEngine.Model model = (ScriptedEngine.Model) engine.load(null);

        boolean healthy = executor.execute(model, batch(8, id -> id == 2 || id == 7));

        assertThat(healthy).isFalse();
        for (int id = 1; id <= 8; id++) {
            assertThat(failureOf(id)).isInstanceOf(ServingException.Internal.class)
                    .hasMessage("model m/1 failed: index " + (id <= 4 ? 2 : 7) + " is out of range");
        }
        assertThat(model.runs).containsExactly(8, 4, 4);
        assertThat(policy.failed).isEqualTo(8);
        assertThat(policy.ran).isZero();
    }

    @Test
    void aLoneRequestTheModelCannotRunBlamesTheInstance() {
        ScriptedEngine.Model model = (ScriptedEngine.Model) engine.load(null);

        assertThat(executor.execute(model, batch(1, id -> true))).isFalse();
        assertThat(failureOf(1)).hasMessage("model m/1 failed: index 1 is out of range");
        assertThat(model.runs).containsExactly(1);
    }

    @Test
    void aDeviceFaultWhileLookingForTheBadRequestRunsNothingMoreAndFailsTheRestWithIt() {
        ScriptedEngine.Model model = (ScriptedEngine.Model) engine.load(null);
        List<PendingRequest> batch = batch(4, id -> false);
        engine.behaviour = (m, inputs) -> {
            if (inputs.get(0).dim(0) == 4) {
                throw new EngineException("index 3 is out of range");
            }
            throw new EngineException("CUDA error: device-side assert triggered", null,
                    EngineException.Kind.DEVICE_FAULT);
        };

        assertThat(executor.execute(model, batch)).isFalse();

        assertThat(executor.takeDeviceFault()).isTrue();
        for (int id = 1; id <= 4; id++) {
            assertThat(failureOf(id)).isInstanceOf(ServingException.Internal.class)
                    .hasMessage("model m/1 failed: CUDA error: device-side assert triggered (the GPU's context is"
                            + " broken; the instance is being loaded again)");
        }
        assertThat(model.runs).as("the batch, then its first half only").containsExactly(4, 2);
        assertThat(policy.failed).isEqualTo(4);
    }
}
