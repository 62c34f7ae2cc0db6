package dev.torchlight.scheduler;

import java.util.concurrent.atomic.LongAdder;

/**
 * Chooses how the latency-target policy waits for company by trying each way in turn and keeping the
 * better: an epoch of {@link Style#EAGER}, an epoch of {@link Style#PATIENT}, then
 * {@link #EXPLOIT_EPOCHS} epochs of the winner, over and over, so the choice follows the load. The
 * winner answers more rows per second (by more than {@link #MARGIN}); at about the same rate (an open
 * load, whose rate no policy changes) the one with the lower mean latency wins.
 *
 * <p>Why try rather than predict: whether more requests are coming depends on the clients. An open
 * load keeps arriving at its own rate, so waiting for the requests out at the clients only adds
 * latency; a closed loop's clients send again only when answered, so a batch that does not wait for
 * them stays split into halves that take turns. Both look alike from inside for a while; measuring
 * the outcome tells them apart.
 */
final class WaitStyleTrial {
    /** How a request waits for company. */
    enum Style {
        /** Only while a burst of arrivals lasts and the arrival rate makes waiting pay. */
        EAGER,
        /** Also for the requests that are out at clients who will send again (a closed loop's population). */
        PATIENT
    }

    static final int EXPLOIT_EPOCHS = 16;
    static final double MARGIN = 0.03;

    private final long epochNanos;
    // Written by the instances' threads.
    private final LongAdder rows = new LongAdder();
    private final LongAdder requests = new LongAdder();
    private final LongAdder latencyNanos = new LongAdder();
    // Guarded by the scheduler's lock.
    private long epochStart;
    private boolean started;
    private int epoch;
    private final double[] rowsPerSecond = new double[2];
    private final double[] meanLatency = new double[2];
    private Style winner = Style.EAGER;

    WaitStyleTrial(long epochNanos) {
        this.epochNanos = epochNanos;
    }

    /** A run answered {@code requests} requests of {@code rows} rows, whose latencies add up to {@code latencyNanos}. */
    void ran(int rows, int requests, long latencyNanos) {
        this.rows.add(rows);
        this.requests.add(requests);
        this.latencyNanos.add(latencyNanos);
    }

    /** The style to wait in at {@code now}; ends the epoch when its time is up. Under the scheduler's lock. */
    Style style(long now) {
        if (!started) {
            started = true;
            epochStart = now;
        } else if (now - epochStart >= epochNanos) {
            endEpoch(now);
        }
        return current();
    }

    /** The style that won the last comparison. */
    Style winner() {
        return winner;
    }

    private Style current() {
        return switch (epoch) {
            case 0 -> Style.EAGER;
            case 1 -> Style.PATIENT;
            default -> winner;
        };
    }

    private void endEpoch(long now) {
        double seconds = (now - epochStart) / 1e9;
        long answered = requests.sumThenReset();
        double perSecond = rows.sumThenReset() / seconds;
        double latency = answered == 0 ? Double.MAX_VALUE : (double) latencyNanos.sumThenReset() / answered;
        if (epoch < 2) {
            rowsPerSecond[epoch] = perSecond;
            meanLatency[epoch] = latency;
            if (epoch == 1) {
                winner = pick();
            }
        }
        epoch = (epoch + 1) % (2 + EXPLOIT_EPOCHS);
        epochStart = now;
    }

    private Style pick() {
        double eager = rowsPerSecond[Style.EAGER.ordinal()];
        double patient = rowsPerSecond[Style.PATIENT.ordinal()];
        if (patient > eager * (1 + MARGIN)) {
            return Style.PATIENT;
        }
        if (patient >= eager * (1 - MARGIN) && meanLatency[Style.PATIENT.ordinal()] < meanLatency[Style.EAGER.ordinal()]) {
            return Style.PATIENT;
        }
        return Style.EAGER;
    }
}
