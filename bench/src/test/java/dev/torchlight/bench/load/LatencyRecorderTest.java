package dev.torchlight.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class LatencyRecorderTest {

    @Test
    void theTotalOfRolledIntervalsHasThePercentilesOfOneHistogramOfEverything() {
        LatencyRecorder recorder = new LatencyRecorder();
        Histogram everything = LatencyRecorder.newHistogram();
        SplittableRandom random = new SplittableRandom(7);
        long intervalCounts = 0;
        for (int interval = 0; interval < 10; interval++) {
            // Each interval has its own latency regime, so a wrong merge would show.
            int count = 1000 + random.nextInt(5000);
            long scaleMicros = 50L << interval;
            for (int i = 0; i < count; i++) {
                long micros = 1 + (long) (random.nextDouble() * random.nextDouble() * scaleMicros);
                recorder.recordNanos(micros * 1000 + random.nextInt(1000));
                everything.recordValue(micros);
            }
            Histogram rolled = recorder.roll();
            assertThat(rolled.getTotalCount()).isEqualTo(count);
            intervalCounts += rolled.getTotalCount();
        }
        Histogram total = recorder.total();
        assertThat(total.getTotalCount()).isEqualTo(everything.getTotalCount()).isEqualTo(intervalCounts);
        for (double p : new double[] {0, 50, 90, 99, 99.9, 99.99, 100}) {
            assertThat(total.getValueAtPercentile(p)).as("p%s", p).isEqualTo(everything.getValueAtPercentile(p));
            assertThat(recorder.totalPercentileMicros(p)).isEqualTo(everything.getValueAtPercentile(p));
        }
        assertThat(total.getMaxValue()).isEqualTo(everything.getMaxValue());
    }

    @Test
    void anIntervalHoldsOnlyWhatWasRecordedSinceTheLastRoll() {
        LatencyRecorder recorder = new LatencyRecorder();
        recorder.recordNanos(1_000_000);
        recorder.recordNanos(2_000_000);
        assertThat(recorder.roll().getTotalCount()).isEqualTo(2);
        assertThat(recorder.roll().getTotalCount()).isZero();
        recorder.recordNanos(5_000_000);
        Histogram interval = recorder.roll();
        assertThat(interval.getTotalCount()).isEqualTo(1);
        assertThat(interval.getMaxValue()).isEqualTo(interval.highestEquivalentValue(5000));
        assertThat(recorder.total().getTotalCount()).isEqualTo(3);
    }

    @Test
    void latenciesBeyondAnHourAreRecordedAsAnHour() {
        LatencyRecorder recorder = new LatencyRecorder();
        recorder.recordNanos(Long.MAX_VALUE);
        recorder.recordNanos(-5);
        Histogram total = recorder.roll();
        assertThat(total.getTotalCount()).isEqualTo(2);
        assertThat(total.getMaxValue()).isEqualTo(total.highestEquivalentValue(LatencyRecorder.HIGHEST_MICROS));
        assertThat(total.getMinValue()).isZero();
    }
}
