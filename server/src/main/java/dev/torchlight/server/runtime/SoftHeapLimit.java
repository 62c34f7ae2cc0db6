package dev.torchlight.server.runtime;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;
import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The heap the server recycles: under ZGC, a soft limit ({@code SoftMaxHeapSize}) of a sixteenth of
 * the maximum heap and at least 256 MiB, set when the server starts unless the operator set one.
 *
 * <p>Why: ZGC starts collecting only as the heap nears its soft limit, which defaults to the maximum
 * (a quarter of memory). Until then every allocation lands on memory the process never touched, and
 * each new page is a page fault, which in a virtual machine that hands freed memory back to its host
 * costs ~10 µs: 2,600 faults a second at 1,000 requests/s on the demo model, a quarter of its event
 * loop's time (docs/PERFORMANCE.md). With the limit, the heap grows to it once and then reuses the
 * same memory; the resident size stays flat. The limit is soft: a live set that needs more still
 * gets up to the maximum, with more frequent (concurrent) collections. It is a {@code manageable}
 * flag, so it can be set here, from the maximum the JVM chose for this machine or container, where a
 * fixed value in {@code tools/jvm.options} could exceed a small container's maximum and stop the JVM.
 */
public final class SoftHeapLimit {
    private static final Logger LOG = LoggerFactory.getLogger(SoftHeapLimit.class);

    static final long FLOOR_BYTES = 256L << 20;
    static final int SHARE_OF_MAX = 16;
    static final String OPTION = "SoftMaxHeapSize";

    private SoftHeapLimit() {}

    /** The soft limit for a maximum heap of {@code maxHeapBytes}. */
    static long forMaxHeap(long maxHeapBytes) {
        return Math.min(maxHeapBytes, Math.max(FLOOR_BYTES, maxHeapBytes / SHARE_OF_MAX));
    }

    /** Applies the limit to this JVM, logging what it did. */
    public static void applyToThisJvm() {
        try {
            apply(ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class))
                    .ifPresent(LOG::info);
        } catch (RuntimeException e) {
            // Another JVM than HotSpot, or one that refuses: the server runs as well without it.
            LOG.debug("could not set {}: {}", OPTION, e.toString());
        }
    }

    /**
     * Sets {@code SoftMaxHeapSize} when the collector is ZGC and nobody set it.
     *
     * @return the line to log when it was set; empty when left alone
     */
    static Optional<String> apply(HotSpotDiagnosticMXBean vm) {
        if (!"true".equals(vm.getVMOption("UseZGC").getValue())) {
            return Optional.empty(); // other collectors ignore the flag
        }
        VMOption current = vm.getVMOption(OPTION);
        if (current.getOrigin() != VMOption.Origin.DEFAULT && current.getOrigin() != VMOption.Origin.ERGONOMIC) {
            return Optional.empty(); // the operator's choice
        }
        long max = Long.parseLong(vm.getVMOption("MaxHeapSize").getValue());
        long limit = forMaxHeap(max);
        if (limit >= max) {
            return Optional.empty(); // a small heap: the maximum is the limit already
        }
        vm.setVMOption(OPTION, Long.toString(limit));
        return Optional.of(String.format(Locale.ROOT,
                "heap: ZGC recycles %d MiB of the %d MiB maximum (-XX:%s sets another soft limit)",
                limit >> 20, max >> 20, OPTION));
    }
}
