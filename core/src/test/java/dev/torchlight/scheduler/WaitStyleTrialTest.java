package dev.torchlight.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.scheduler.WaitStyleTrial.Style;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The eager/patient trial fed by hand: epochs of 100 ms, requests with chosen arrival times and latencies. */
class WaitStyleTrialTest {
    private static final long MS = 1_000_000L;
    private static final long EPOCH = 100 * MS;

    private final WaitStyleTrial trial = new WaitStyleTrial(EPOCH);
    private long id;

    /** {@code count} requests arriving evenly in the epoch starting at {@code start}, each answered {@code latency} later. */
    private void epoch(long start, int count, long latency) {
        for (int i = 0; i < count; i++) {
            long arrived = start + i * (EPOCH / count);
            trial.ran(List.of(request(arrived)), arrived + latency);
        }
    }

    private PendingRequest request(long arrived) {
        return Fixtures.pending(id++, 1, 1, 1, arrived, PendingRequest.NO_DEADLINE);
    }

    /** Plays the trial's two epochs and the first of the winner's, and returns the winner. */
    private Style trialOf(int eagerCount, long eagerLatency, int patientCount, long patientLatency) {
        assertThat(trial.style(0)).isEqualTo(Style.EAGER);
        epoch(0, eagerCount, eagerLatency);
        assertThat(trial.style(EPOCH)).isEqualTo(Style.PATIENT);
        epoch(EPOCH, patientCount, patientLatency);
        trial.style(2 * EPOCH);
        epoch(2 * EPOCH, eagerCount, eagerLatency);
        trial.style(3 * EPOCH);
        return trial.winner();
    }

    @Test
    void aRateWithinChanceAndALatencyWithinTheMarginKeepEager() {
        // An open load at 1,000/s: 100 requests against 115 is chance (2 sigma is about 29); 5% lower latency is noise.
        assertThat(trialOf(100, 200_000, 115, 190_000)).isEqualTo(Style.EAGER);
    }

    @Test
    void aRateHigherBeyondChanceWinsForPatient() {
        // A closed loop whose batches stay whole when patient: 3,900 against 4,200 requests per epoch.
        assertThat(trialOf(3_900, 1_600_000, 4_200, 1_470_000)).isEqualTo(Style.PATIENT);
    }

    @Test
    void aClearlyLowerLatencyAtTheSameRateWinsForPatient() {
        assertThat(trialOf(1_000, 2 * MS, 1_000, MS)).isEqualTo(Style.PATIENT);
    }

    @Test
    void aRequestCountsForTheEpochItArrivedInWhenAnsweredLater() {
        // The patient epoch held its requests 5 ms and answered the last ones after its end: still its latency.
        assertThat(trial.style(0)).isEqualTo(Style.EAGER);
        epoch(0, 100, 200_000);
        trial.style(EPOCH);
        List<PendingRequest> held = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            held.add(request(EPOCH + i * MS));
        }
        trial.ran(held.subList(0, 99), 2 * EPOCH - MS);
        trial.style(2 * EPOCH);
        trial.ran(held.subList(99, 100), 2 * EPOCH + 4 * MS);
        epoch(2 * EPOCH, 100, 200_000);
        trial.style(3 * EPOCH);
        assertThat(trial.winner()).isEqualTo(Style.EAGER);
    }

    @Test
    void aPatientTrialFarWorseThanTheEagerEpochEndsEarly() {
        trial.style(0);
        epoch(0, 100, 200_000);
        assertThat(trial.style(EPOCH)).isEqualTo(Style.PATIENT);
        for (int i = 0; i < WaitStyleTrial.CUT_SHORT_AFTER; i++) {
            long arrived = EPOCH + i * 100_000L;
            trial.ran(List.of(request(arrived)), arrived + 4 * MS);
        }
        assertThat(trial.style(EPOCH + 6 * MS)).as("ended at the next decision, not after 100 ms")
                .isEqualTo(Style.EAGER);
    }

    @Test
    void eachConfirmationDoublesTheWinnersRunAndAWinnerThatRelapsesIsTriedAgain() {
        // Trials that patient wins clearly (same rate, half the latency), each confirming the last.
        assertThat(trial.style(0)).isEqualTo(Style.EAGER);
        long t = 0;
        for (int run : new int[] {WaitStyleTrial.EXPLOIT_EPOCHS, 2 * WaitStyleTrial.EXPLOIT_EPOCHS}) {
            epoch(t, 1_000, 2 * MS);
            t += EPOCH;
            assertThat(trial.style(t)).isEqualTo(Style.PATIENT);
            epoch(t, 1_000, MS);
            int between = 0;
            Style last = null;
            while (true) {
                t += EPOCH;
                Style style = trial.style(t);
                if (style == Style.EAGER && last == Style.PATIENT) {
                    break;
                }
                last = style;
                between++;
                epoch(t, 1_000, MS);
            }
            assertThat(trial.winner()).isEqualTo(Style.PATIENT);
            assertThat(between).as("epochs of the winner before the next trial").isEqualTo(run);
        }
        // Then the winner's epochs come out at 4 ms, over twice what the trial saw.
        epoch(t, 1_000, 2 * MS);
        t += EPOCH;
        trial.style(t);
        epoch(t, 1_000, MS);
        for (long latency : new long[] {MS, 4 * MS, 4 * MS}) {
            t += EPOCH;
            assertThat(trial.style(t)).isEqualTo(Style.PATIENT);
            epoch(t, 1_000, latency);
        }
        t += EPOCH;
        assertThat(trial.style(t)).as("judged one epoch after it ended: a new trial starts, with eager")
                .isEqualTo(Style.EAGER);
    }
}
