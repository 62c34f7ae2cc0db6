package dev.torchlight.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;
import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

class SoftHeapLimitTest {
    private static final long MIB = 1L << 20;

    @Test
    void aSixteenthOfTheMaximumAndAtLeast256MiBButNeverAboveTheMaximum() {
        assertThat(SoftHeapLimit.forMaxHeap(6144 * MIB)).isEqualTo(384 * MIB);
        assertThat(SoftHeapLimit.forMaxHeap(16384 * MIB)).isEqualTo(1024 * MIB);
        assertThat(SoftHeapLimit.forMaxHeap(1024 * MIB)).isEqualTo(256 * MIB);
        assertThat(SoftHeapLimit.forMaxHeap(128 * MIB)).isEqualTo(128 * MIB);
    }

    @Test
    void setsTheLimitUnderZgcWhenNobodyDid() {
        FakeVm vm = new FakeVm(true, 6144 * MIB, VMOption.Origin.ERGONOMIC);

        assertThat(SoftHeapLimit.apply(vm)).hasValueSatisfying(line -> assertThat(line)
                .contains("384 MiB of the 6144 MiB maximum").contains("-XX:SoftMaxHeapSize"));
        assertThat(vm.options.get("SoftMaxHeapSize").getValue()).isEqualTo(Long.toString(384 * MIB));
    }

    @Test
    void leavesTheOperatorsLimitAlone() {
        FakeVm vm = new FakeVm(true, 6144 * MIB, VMOption.Origin.VM_CREATION);

        assertThat(SoftHeapLimit.apply(vm)).isEmpty();
        assertThat(vm.sets).isZero();
    }

    @Test
    void leavesOtherCollectorsAndSmallHeapsAlone() {
        FakeVm g1 = new FakeVm(false, 6144 * MIB, VMOption.Origin.ERGONOMIC);
        FakeVm small = new FakeVm(true, 200 * MIB, VMOption.Origin.ERGONOMIC);

        assertThat(SoftHeapLimit.apply(g1)).isEmpty();
        assertThat(SoftHeapLimit.apply(small)).isEmpty();
        assertThat(g1.sets + small.sets).isZero();
    }

    @Test
    void theRealJvmTakesItOrIsLeftAsItWas() {
        // Whatever collector runs the tests: applying must not throw, and under ZGC the flag moves.
        HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        String before = vm.getVMOption("SoftMaxHeapSize").getValue();

        SoftHeapLimit.applyToThisJvm();

        if (!"true".equals(vm.getVMOption("UseZGC").getValue())) {
            assertThat(vm.getVMOption("SoftMaxHeapSize").getValue()).isEqualTo(before);
        }
    }

    /** The three flags the limit reads, and the one it sets. */
    private static final class FakeVm implements HotSpotDiagnosticMXBean {
        final Map<String, VMOption> options = new HashMap<>();
        int sets;

        FakeVm(boolean zgc, long maxHeap, VMOption.Origin softOrigin) {
            options.put("UseZGC", new VMOption("UseZGC", Boolean.toString(zgc), false, VMOption.Origin.VM_CREATION));
            options.put("MaxHeapSize", new VMOption("MaxHeapSize", Long.toString(maxHeap), false,
                    VMOption.Origin.ERGONOMIC));
            options.put("SoftMaxHeapSize", new VMOption("SoftMaxHeapSize", Long.toString(maxHeap), true, softOrigin));
        }

        @Override
        public VMOption getVMOption(String name) {
            return options.get(name);
        }

        @Override
        public void setVMOption(String name, String value) {
            sets++;
            options.put(name, new VMOption(name, value, true, VMOption.Origin.MANAGEMENT));
        }

        @Override
        public List<VMOption> getDiagnosticOptions() {
            return List.copyOf(options.values());
        }

        @Override
        public void dumpHeap(String outputFile, boolean live) {
            throw new UnsupportedOperationException();
        }

        @Override
        public ObjectName getObjectName() {
            return null;
        }
    }
}
