package dev.torchlight.scheduler;

import java.util.List;

/**
 * Chooses how the latency-target policy waits for company by trying each way in turn and keeping the
 * better: an epoch of {@link Style#EAGER}, an epoch of {@link Style#PATIENT}, then some epochs of the
 * winner, over and over, so the choice follows the load. The winner answers more rows per second, by
 * more than {@link #MARGIN} and by more than chance explains ({@link #SIGNIFICANCE} standard errors of
 * the difference, counting an epoch's requests as a Poisson count); at about the same rate (an open
 * load, whose rate no policy changes) the one with the lower mean latency wins.
 *
 * <p>Each request counts for the epoch it arrived in, whenever it is answered: a request the patient
 * epoch held and answered in the next one is the patient style's latency, not the next style's. So an
 * epoch is judged one epoch after it ends (requests older than that are not counted; an epoch is far
 * longer than a target).
 *
 * <p>Why try rather than predict: whether more requests are coming depends on the clients. An open
 * load keeps arriving at its own rate, so waiting for the requests out at the clients only adds
 * latency; a closed loop's clients send again only when answered, so a batch that does not wait for
 * them stays split into halves that take turns. Both look alike from inside for a while; measuring
 * the outcome tells them apart.
 *
 * <p>Trying costs: under an open load, the patient epoch holds requests for clients who are not
 * coming, and those waits show in the p99 once they are a few percent of all requests. So a patient
 * trial whose latency is already far worse than the eager epoch's ends early ({@link #CUT_SHORT_AFTER}),
 * and each comparison that confirms the winner doubles how long the winner then runs, from
 * {@link #EXPLOIT_EPOCHS} up to {@link #MAX_EXPLOIT_EPOCHS} epochs; a change of winner starts again
 * from the shortest. And a winner is not trusted blindly: an epoch of it that comes out far worse than
 * the trial did ({@link #RELAPSE}) starts a new trial at once.
 *
 * <p>Thread-safe: {@link #style} is called under the scheduler's lock, {@link #ran} from the
 * instances' threads; both take the trial's own lock, once per decision or run.
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
    static final int MAX_EXPLOIT_EPOCHS = 512;
    static final double MARGIN = 0.03;
    /**
     * Standard errors by which one style's rate must beat the other's. An epoch of 100 ms at 1,000
     * requests/s sees about 100 requests, ±10% by chance alone: without this, an open load's noise
     * picked the patient style about a third of the time. Two, not three: a closed loop's counts vary
     * far less than a Poisson count's, and at 64 clients the patient style's real gain (7%) is under
     * three of them.
     */
    static final double SIGNIFICANCE = 2;
    /**
     * How much lower the patient style's mean latency must be to win at the same rate. Where neither
     * style waits, their latencies differ by chance alone, and the patient style, once it starts
     * waiting, makes arrivals find the model busy, which makes it wait more: it must earn its place.
     */
    static final double LATENCY_MARGIN = 0.1;
    /** How much worse than the trial's better mean latency an epoch of the winner may be before both are tried again. */
    static final double RELAPSE = 2;
    /**
     * Requests after which a patient trial whose mean latency is already over {@link #RELAPSE} times
     * the eager epoch's ends early: under an open load its waits are what the trial costs, and a
     * hundred of them in every trial showed in the p99.
     */
    static final int CUT_SHORT_AFTER = 16;

    /** What the requests that arrived in one epoch came to. */
    private static final class Tally {
        long start;
        long end;
        long rows;
        long requests;
        long latencyNanos;

        void reset(long at) {
            start = at;
            end = Long.MAX_VALUE;
            rows = 0;
            requests = 0;
            latencyNanos = 0;
        }

        double seconds() {
            return Math.max(1, end - start) / 1e9;
        }

        /** The variance of the request rate, taking the request count as a Poisson count. */
        double rateVariance() {
            double seconds = seconds();
            return requests / (seconds * seconds);
        }
    }

    private final long epochNanos;
    private boolean started;
    /** Index of the current epoch in the cycle: 0 eager, 1 patient, then the winner's. */
    private int epoch;
    private int exploitEpochs = EXPLOIT_EPOCHS;
    /** The patient trial is going badly: end it at the next decision. */
    private boolean cutShort;
    private Tally current = new Tally();
    private Tally previous = new Tally();
    private final double[] rowsPerSecond = new double[2];
    private final double[] requestsPerSecond = new double[2];
    private final double[] variance = new double[2];
    private final double[] meanLatency = new double[2];
    private Style winner = Style.EAGER;

    WaitStyleTrial(long epochNanos) {
        this.epochNanos = epochNanos;
        previous.reset(Long.MAX_VALUE);
    }

    /** A run answered {@code batch} at {@code endNanos}. */
    synchronized void ran(List<PendingRequest> batch, long endNanos) {
        for (PendingRequest r : batch) {
            long arrived = r.enqueuedNanos();
            Tally tally = started && arrived >= current.start ? current
                    : arrived >= previous.start && arrived < previous.end ? previous : null;
            if (tally != null) {
                tally.rows += r.rows();
                tally.requests++;
                tally.latencyNanos += endNanos - arrived;
            }
        }
        if (epoch == 1 && current.requests >= CUT_SHORT_AFTER && previous.requests > 0
                && current.latencyNanos / (double) current.requests > RELAPSE * previous.latencyNanos / previous.requests) {
            cutShort = true;
        }
    }

    /** The style to wait in at {@code now}; ends the epoch when its time is up. Under the scheduler's lock. */
    synchronized Style style(long now) {
        if (!started) {
            started = true;
            current.reset(now);
        } else if (now - current.start >= epochNanos || cutShort) {
            cutShort = false;
            endEpoch(now);
        }
        return current();
    }

    /** The style that won the last comparison. */
    synchronized Style winner() {
        return winner;
    }

    /** The style in force, without ending an epoch. */
    synchronized Style current() {
        return switch (epoch) {
            case 0 -> Style.EAGER;
            case 1 -> Style.PATIENT;
            default -> winner;
        };
    }

    private void endEpoch(long now) {
        // The epoch before the one ending now is complete: judge it (-1: the last of the winner's run,
        // which a new trial follows anyway).
        int judged = epoch - 1;
        if (judged == 0 || judged == 1) {
            record(judged, previous);
            if (judged == 1) {
                Style before = winner;
                winner = pick();
                exploitEpochs = winner == before ? Math.min(MAX_EXPLOIT_EPOCHS, 2 * exploitEpochs) : EXPLOIT_EPOCHS;
            }
        } else if (judged > 2 && lostItsLead(previous)) {
            // The winner no longer does what it won with (its waits feeding on themselves, or the load
            // changed): try both again now rather than at the end of a long run.
            exploitEpochs = EXPLOIT_EPOCHS;
            epoch = 1 + exploitEpochs;
        }
        current.end = now;
        Tally recycled = previous;
        previous = current;
        current = recycled;
        current.reset(now);
        epoch = (epoch + 1) % (2 + exploitEpochs);
    }

    /**
     * Whether an epoch of the winner's came out clearly worse than both styles did in the trial: a
     * mean latency over {@link #RELAPSE} times the better of theirs, without a rate above the trial's.
     */
    private boolean lostItsLead(Tally tally) {
        if (tally.requests == 0) {
            return false;
        }
        double latency = (double) tally.latencyNanos / tally.requests;
        double best = Math.min(meanLatency[0], meanLatency[1]);
        double rate = tally.requests / tally.seconds();
        double trialRate = requestsPerSecond[winner.ordinal()];
        double noise = SIGNIFICANCE * Math.sqrt(tally.rateVariance() + variance[winner.ordinal()]);
        return latency > RELAPSE * best && !(rate - trialRate > noise);
    }

    private void record(int style, Tally tally) {
        double seconds = tally.seconds();
        rowsPerSecond[style] = tally.rows / seconds;
        requestsPerSecond[style] = tally.requests / seconds;
        variance[style] = tally.rateVariance();
        meanLatency[style] = tally.requests == 0 ? Double.MAX_VALUE : (double) tally.latencyNanos / tally.requests;
    }

    private Style pick() {
        int e = Style.EAGER.ordinal();
        int p = Style.PATIENT.ordinal();
        // Requests, not rows, are what arrive by chance.
        double noise = SIGNIFICANCE * Math.sqrt(variance[e] + variance[p]);
        double difference = requestsPerSecond[p] - requestsPerSecond[e];
        if (rowsPerSecond[p] > rowsPerSecond[e] * (1 + MARGIN) && difference > noise) {
            return Style.PATIENT;
        }
        boolean patientSlower = rowsPerSecond[p] < rowsPerSecond[e] * (1 - MARGIN) && -difference > noise;
        return !patientSlower && meanLatency[p] < (1 - LATENCY_MARGIN) * meanLatency[e] ? Style.PATIENT : Style.EAGER;
    }
}
