package dev.torchlight.scheduler;

/**
 * How requests arrive at one model version, as far as batching cares. Guarded by the scheduler's
 * lock, except {@link #completed}, which an instance's thread calls.
 *
 * <ul>
 *   <li>The share of arrivals that find the version busy (requests queued or running). A closed loop
 *       of one client never arrives while busy, so waiting for company is pointless there.
 *   <li>The gaps between arrivals that come while it is busy: a burst shows small gaps, and once no
 *       arrival came for several gaps ({@link #burstOverNanos}) the burst is over.
 *   <li>The population: how many requests are in the version (queued or running) at most, recently.
 *       Clients that wait for their answers before sending again (a closed loop) are that many; while
 *       fewer are in, the missing ones are on their way back. With {@link #returnOverNanos}, how long
 *       after the latest answers requests come, it says how long they may take.
 * </ul>
 * Moving averages weigh each arrival {@link #ALPHA}; the population forgets one request every
 * {@link #POPULATION_MEMORY} arrivals.
 */
final class ArrivalMonitor {
    static final double ALPHA = 1.0 / 32;
    /** Deviations beyond the mean a gap may last before it counts as the end of a burst. */
    static final double DEVIATIONS = 3;
    static final double POPULATION_MEMORY = 256;

    private double busyShare;
    private final Gaps burstGaps = new Gaps();
    private final Gaps returnGaps = new Gaps();
    private double population;
    private long lastArrival;
    private boolean any;
    private volatile long lastCompletion = Long.MIN_VALUE;

    /** A moving mean and mean absolute deviation of gaps. */
    private static final class Gaps {
        double mean = Double.NaN;
        double deviation;

        void add(double gap) {
            if (Double.isNaN(mean)) {
                mean = gap;
            } else {
                deviation += ALPHA * (Math.abs(gap - mean) - deviation);
                mean += ALPHA * (gap - mean);
            }
        }

        double over() {
            return mean + DEVIATIONS * deviation;
        }
    }

    /**
     * A request arrived at {@code now}.
     *
     * @param inSystem requests queued or running before it
     * @param learn whether to learn from it; false while the policy holds requests for clients' returns,
     *     whose holds make later arrivals find the version busy and fuller, which would justify holding
     *     longer (under an open load, a loop that fed itself)
     */
    void arrived(long now, int inSystem, boolean learn) {
        if (!learn) {
            lastArrival = now;
            any = true;
            return;
        }
        boolean busy = inSystem > 0;
        busyShare += ALPHA * ((busy ? 1 : 0) - busyShare);
        if (busy && any) {
            burstGaps.add(Math.max(0, now - lastArrival));
        }
        long completion = lastCompletion;
        if (completion != Long.MIN_VALUE) {
            // How long after the last answers went out a request came: a closed loop's clients come back
            // within their round trip.
            returnGaps.add(Math.max(0, now - completion));
        }
        population = Math.max(population - 1 / POPULATION_MEMORY, inSystem + 1);
        lastArrival = now;
        any = true;
    }

    /** Answers went out at {@code now}; from an instance's thread. */
    void completed(long now) {
        lastCompletion = now;
    }

    /** The share of recent arrivals that found the version busy, 0 to 1. */
    double busyShare() {
        return busyShare;
    }

    /** The mean gap between arrivals while busy; NaN before any was seen. */
    double gapMeanNanos() {
        return burstGaps.mean;
    }

    /** How long without an arrival ends a burst; NaN before any gap. */
    double burstOverNanos() {
        return burstGaps.over();
    }

    /** How long after the latest answers a request may still come; NaN before any was seen. */
    double returnOverNanos() {
        return returnGaps.over();
    }

    /** Most requests in the version at once, recently (at least 1 once anything arrived). */
    double population() {
        return population;
    }

    /** When the last request arrived. */
    long lastArrivalNanos() {
        return lastArrival;
    }

    /** When the last answers went out. */
    long lastCompletionNanos() {
        return lastCompletion;
    }
}
