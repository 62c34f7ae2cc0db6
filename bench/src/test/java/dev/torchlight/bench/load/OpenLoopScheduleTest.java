package dev.torchlight.bench.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class OpenLoopScheduleTest {
    private static final long T0 = 5_000_000_000L;

    @Test
    void intendedTimesAreEvenlySpacedFromTheStartWhateverHappened() {
        FakeClock clock = new FakeClock(T0);
        OpenLoopSchedule schedule = new OpenLoopSchedule(clock, 1000);
        assertThat(schedule.intendedTime(0)).isEqualTo(T0);
        assertThat(schedule.intendedTime(1)).isEqualTo(T0 + 1_000_000);
        assertThat(schedule.intendedTime(2500)).isEqualTo(T0 + 2_500_000_000L);

        OpenLoopSchedule third = new OpenLoopSchedule(clock, 3);
        // 1/3 s does not divide into nanoseconds: times are rounded down and never drift.
        assertThat(third.intendedTime(1)).isEqualTo(T0 + 333_333_333);
        assertThat(third.intendedTime(3)).isEqualTo(T0 + 1_000_000_000);
        assertThat(third.intendedTime(3_000_000)).isEqualTo(T0 + 1_000_000_000_000_000L);
    }

    @Test
    void dueCountsTheSendsWhoseTimeHasCome() {
        FakeClock clock = new FakeClock(T0);
        OpenLoopSchedule schedule = new OpenLoopSchedule(clock, 500); // one every 2 ms
        assertThat(schedule.dueBy(T0 - 1)).isZero();
        assertThat(schedule.dueBy(T0)).isEqualTo(1);
        assertThat(schedule.dueBy(T0 + 1_999_999)).isEqualTo(1);
        assertThat(schedule.dueBy(T0 + 2_000_000)).isEqualTo(2);
        assertThat(schedule.dueBy(T0 + 1_000_000_000)).isEqualTo(501);

        OpenLoopSchedule third = new OpenLoopSchedule(clock, 3);
        assertThat(third.dueBy(T0 + 333_333_332)).isEqualTo(1);
        assertThat(third.dueBy(T0 + 333_333_333)).isEqualTo(2);
        assertThat(third.dueBy(T0 + 1_000_000_000)).isEqualTo(4);
    }

    @Test
    void takeDueHandsOutEachDueSendOnceInOrderAndThenWaits() {
        FakeClock clock = new FakeClock(T0);
        OpenLoopSchedule schedule = new OpenLoopSchedule(clock, 1000);
        assertThat(drain(schedule)).containsExactly(T0);
        assertThat(schedule.nanosUntilNext()).isEqualTo(1_000_000);

        // The pacer overslept 3.5 ms: the three sends that fell due meanwhile go out now, each
        // keeping its own intended time.
        clock.set(T0 + 3_500_000);
        assertThat(drain(schedule)).containsExactly(T0 + 1_000_000, T0 + 2_000_000, T0 + 3_000_000);
        assertThat(schedule.taken()).isEqualTo(schedule.dueBy(clock.nanoTime())).isEqualTo(4);
        assertThat(schedule.nanosUntilNext()).isEqualTo(500_000);
        assertThat(drain(schedule)).isEmpty();
    }

    @Test
    void sendsMoreThanOneMillisecondLateAreBehindSchedule() {
        FakeClock clock = new FakeClock(T0);
        OpenLoopSchedule schedule = new OpenLoopSchedule(clock, 1000);
        assertThat(schedule.sent(T0, T0)).isFalse();
        assertThat(schedule.sent(T0, T0 + 1_000_000)).isFalse();
        assertThat(schedule.sent(T0, T0 + 1_000_001)).isTrue();
        assertThat(schedule.sent(T0 + 1_000_000, T0 + 50_000_000)).isTrue();
        assertThat(schedule.behindSchedule()).isEqualTo(2);
    }

    @Test
    void aSlowPacerFallsBehindOnlyForTheSendsItDelayed() {
        FakeClock clock = new FakeClock(T0);
        OpenLoopSchedule schedule = new OpenLoopSchedule(clock, 1000);
        // Sends 0..9 go out on time, then the pacer stalls 5.5 ms and sends 10..15 together.
        for (int i = 0; i < 10; i++) {
            clock.set(schedule.intendedTime(i));
            for (long intended : drain(schedule)) {
                schedule.sent(intended, clock.nanoTime());
            }
        }
        clock.set(schedule.intendedTime(15) + 500_000);
        List<Long> late = drain(schedule);
        assertThat(late).hasSize(6);
        for (long intended : late) {
            schedule.sent(intended, clock.nanoTime());
        }
        // 10..14 left 5.5..1.5 ms late; 15 only 0.5 ms late, which is on time.
        assertThat(schedule.behindSchedule()).isEqualTo(5);
    }

    @Test
    void theRateMustBePositive() {
        assertThatIllegalArgumentException().isThrownBy(() -> new OpenLoopSchedule(new FakeClock(0), 0));
        assertThatIllegalArgumentException().isThrownBy(() -> new OpenLoopSchedule(new FakeClock(0), Double.NaN));
    }

    private static List<Long> drain(OpenLoopSchedule schedule) {
        List<Long> taken = new ArrayList<>();
        long t;
        while ((t = schedule.takeDue()) != OpenLoopSchedule.NONE) {
            taken.add(t);
        }
        return taken;
    }
}
