package dev.torchlight.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

class RequestQueueTest {
    private static final long NONE = PendingRequest.NO_DEADLINE;

    private static List<PendingRequest> drain(Iterator<PendingRequest> it) {
        List<PendingRequest> all = new ArrayList<>();
        it.forEachRemaining(all::add);
        return all;
    }

    @Test
    void removingFromTheMiddleKeepsTheOrderOfTheRest() {
        RequestQueue queue = new RequestQueue(2, 0);
        PendingRequest a = Fixtures.pending(1, 1, 2, 1, 10, NONE);
        PendingRequest b = Fixtures.pending(2, 1, 2, 2, 11, NONE);
        PendingRequest c = Fixtures.pending(3, 1, 2, 1, 12, NONE);
        PendingRequest d = Fixtures.pending(4, 1, 2, 1, 13, NONE);
        List.of(a, b, c, d).forEach(queue::add);

        queue.remove(c);

        assertThat(drain(queue.inOrder(PendingRequest::level))).containsExactly(a, d, b);
        assertThat(queue.size()).isEqualTo(3);
        assertThat(queue.oldestEnqueuedNanos()).isEqualTo(10);
        queue.remove(a);
        assertThat(queue.oldestEnqueuedNanos()).isEqualTo(11);
        assertThatThrownBy(() -> queue.remove(a)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void theNearestDeadlineIgnoresRequestsThatLeft() {
        RequestQueue queue = new RequestQueue(1, 0);
        PendingRequest soon = Fixtures.pending(1, 1, 2, 1, 0, 100);
        PendingRequest later = Fixtures.pending(2, 1, 2, 1, 0, 200);
        queue.add(soon);
        queue.add(later);
        assertThat(queue.nearestDeadlineNanos()).isEqualTo(100);

        queue.remove(soon);
        assertThat(queue.nearestDeadlineNanos()).isEqualTo(200);
        assertThat(queue.removeExpired(150)).isEmpty();
        assertThat(queue.removeExpired(200)).containsExactly(later);
        assertThat(queue.nearestDeadlineNanos()).isEqualTo(NONE);
        assertThat(queue.oldestEnqueuedNanos()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void manyRequestsLeavingTheMiddleDoNotPileUpInTheDeadlineHeap() {
        RequestQueue queue = new RequestQueue(1, 0);
        PendingRequest keep = Fixtures.pending(0, 1, 2, 1, 0, 1);
        queue.add(keep);
        for (int i = 1; i <= 10_000; i++) {
            PendingRequest r = Fixtures.pending(i, 1, 2, 1, i, 1_000_000 + i);
            queue.add(r);
            queue.remove(r);
        }
        assertThat(queue.size()).isEqualTo(1);
        assertThat(queue.removeExpired(1)).containsExactly(keep);
        assertThat(queue.isEmpty()).isTrue();
    }

    @Test
    void removeAllEmptiesEveryLevel() {
        RequestQueue queue = new RequestQueue(3, 0);
        for (int i = 0; i < 6; i++) {
            queue.add(Fixtures.pending(i, 1, 2, 1 + i % 3, i, i % 2 == 0 ? 100 + i : NONE));
        }
        assertThat(queue.removeAll()).hasSize(6).allMatch(r -> !r.queued);
        assertThat(queue.isEmpty()).isTrue();
        assertThat(queue.nearestDeadlineNanos()).isEqualTo(NONE);
    }

    @Test
    void aLevelOutsideTheQueueIsRejected() {
        RequestQueue queue = new RequestQueue(2, 0);
        assertThatThrownBy(() -> queue.add(Fixtures.pending(1, 1, 2, 3, 0, NONE)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
