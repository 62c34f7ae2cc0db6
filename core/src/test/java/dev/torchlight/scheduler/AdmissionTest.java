package dev.torchlight.scheduler;

import static dev.torchlight.scheduler.Fixtures.batching;
import static dev.torchlight.scheduler.Fixtures.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.torchlight.api.ServingException;
import java.util.List;
import org.junit.jupiter.api.Test;

class AdmissionTest {
    private static final long T0 = 7_000_000_000L;

    @Test
    void priorityZeroTakesTheDefaultLevel() {
        assertThat(new Admission(config(8, batching(0, List.of(), 0, 0, 3, 2))).level(0)).isEqualTo(2);
        assertThat(new Admission(config(8, batching(0, List.of(), 0, 0, 3, 0))).level(0))
                .as("no default level: the lowest").isEqualTo(3);
        assertThat(new Admission(config(8, null)).level(0)).isEqualTo(1);
    }

    @Test
    void aLevelWithinRangeIsKept() {
        Admission admission = new Admission(config(8, batching(0, List.of(), 0, 0, 3, 0)));
        assertThat(admission.level(1)).isEqualTo(1);
        assertThat(admission.level(3)).isEqualTo(3);
        assertThat(admission.levels()).isEqualTo(3);
    }

    @Test
    void aLevelAboveThePriorityLevelsIsInvalidInputNamingTheRange() {
        Admission admission = new Admission(config(8, batching(0, List.of(), 0, 0, 3, 0)));
        assertThatThrownBy(() -> admission.level(4))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessageContaining("priority 4 is outside 1..3")
                .hasMessageContaining("priority_levels of model 'm'");
        assertThatThrownBy(() -> new Admission(config(8, null)).level(2))
                .isInstanceOf(ServingException.InvalidInput.class)
                .hasMessageContaining("outside 1..1");
    }

    @Test
    void theRequestsOwnTimeoutWinsOverTheModelsDefault() {
        Admission admission = new Admission(config(8, batching(0, List.of(), 0, 250, 0, 0)));
        assertThat(admission.deadline(T0, 1_500)).isEqualTo(T0 + 1_500_000);
        assertThat(admission.deadline(T0, 0)).isEqualTo(T0 + 250_000_000);
    }

    @Test
    void withoutAnyTimeoutThereIsNoDeadline() {
        assertThat(new Admission(config(8, batching(0))).deadline(T0, 0)).isEqualTo(PendingRequest.NO_DEADLINE);
        assertThat(new Admission(config(8, null)).deadline(T0, 0)).isEqualTo(PendingRequest.NO_DEADLINE);
        assertThat(new Admission(config(8, null)).deadline(T0, 10)).isEqualTo(T0 + 10_000);
    }

    @Test
    void aTimeoutTooLongToRepresentIsNoDeadline() {
        assertThat(new Admission(config(8, null)).deadline(T0, Long.MAX_VALUE / 10))
                .isEqualTo(PendingRequest.NO_DEADLINE);
    }

    @Test
    void millisecondsAreWrittenWithoutTrailingZeros() {
        assertThat(Admission.millis(12_000_000)).isEqualTo("12");
        assertThat(Admission.millis(500_000)).isEqualTo("0.5");
        assertThat(Admission.millis(1_234_567)).isEqualTo("1.234");
        assertThat(Admission.millis(0)).isEqualTo("0");
    }
}
