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
    void eachScopeDeliversOnlyItsOwnTasksOnceAlthoughTheThreadReusesIt() {
        Recording first = new Recording();
        Recording second = new Recording();
        List<String> ran = new ArrayList<>();
        BatchedCompletion.around(() -> {
            BatchedCompletion.deferring(first).execute(() -> ran.add("first"));
            return null;
        });
        BatchedCompletion.around(() -> {
            BatchedCompletion.deferring(second).execute(() -> ran.add("second"));
            return null;
        });
        assertThat(first.tasks).hasSize(1);
        assertThat(second.tasks).hasSize(1);
        first.tasks.get(0).run();
        second.tasks.get(0).run();
        assertThat(ran).containsExactly("first", "second");
    }

    @Test
    void anExecutorThatRunsItsTaskAtOnceMayOpenAScopeOfItsOwn() {
        Recording later = new Recording();
        List<String> ran = new ArrayList<>();
        // Runs what it is given on the spot, and that work completes more requests in a scope of its own.
        Executor inline = task -> BatchedCompletion.around(() -> {
            task.run();
            BatchedCompletion.deferring(later).execute(() -> ran.add("nested"));
            return null;
        });
        BatchedCompletion.around(() -> {
            BatchedCompletion.deferring(inline).execute(() -> ran.add("inline"));
            BatchedCompletion.deferring(later).execute(() -> ran.add("outer"));
            return null;
        });
        later.tasks.forEach(Runnable::run);
        assertThat(ran).as("every task once").containsExactlyInAnyOrder("inline", "outer", "nested");
    }

    @Test
    void outsideAScopeTasksGoStraightThrough() {
        Recording loop = new Recording();
        BatchedCompletion.deferring(loop).execute(() -> {});
        BatchedCompletion.deferring(loop).execute(() -> {});
        assertThat(loop.tasks).hasSize(2);
    }
}
