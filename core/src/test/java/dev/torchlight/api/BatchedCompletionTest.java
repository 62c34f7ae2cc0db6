package dev.torchlight.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;

class BatchedCompletionTest {
    /** Records each task it is given instead of running it. */
    static final class Recording implements Executor {
        final List<Runnable> tasks = new ArrayList<>();

        @Override
        public void execute(Runnable task) {
            tasks.add(task);
        }
    }

    @Test
    void insideAScopeTasksReachEachExecutorAsOneTaskInOrder() {
        Recording loopA = new Recording();
        Recording loopB = new Recording();
        List<String> ran = new ArrayList<>();

        int result = BatchedCompletion.around(() -> {
            BatchedCompletion.deferring(loopA).execute(() -> ran.add("a1"));
            BatchedCompletion.deferring(loopB).execute(() -> ran.add("b1"));
            BatchedCompletion.deferring(loopA).execute(() -> {
                throw new IllegalStateException("one reply fails");
            });
            BatchedCompletion.deferring(loopA).execute(() -> ran.add("a2"));
            assertThat(loopA.tasks).as("nothing leaves before the scope ends").isEmpty();
            return 7;
        });

        assertThat(result).isEqualTo(7);
        assertThat(loopA.tasks).hasSize(1);
        assertThat(loopB.tasks).hasSize(1);
        loopA.tasks.get(0).run();
        loopB.tasks.get(0).run();
        assertThat(ran).as("a failing task does not stop the others").containsExactly("a1", "a2", "b1");
    }

    @Test
    void outsideAScopeTasksGoStraightThrough() {
        Recording loop = new Recording();
        BatchedCompletion.deferring(loop).execute(() -> {});
        BatchedCompletion.deferring(loop).execute(() -> {});
        assertThat(loop.tasks).hasSize(2);
    }
}
