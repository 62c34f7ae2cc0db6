package dev.torchlight.registry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.config.Precision;
import org.junit.jupiter.api.Test;

/** The memory a GPU instance is expected to need, from its model file's size. */
class GpuLoadGateTest {
    private static final long MIB = 1L << 20;
    private static final long GIB = 1L << 30;

    @Test
    void aModelNeedsItsWeightsAndAFifthMoreForTheForwardPass() {
        assertThat(GpuLoadGate.neededBytes(Precision.FP32, 45 * MIB)).isEqualTo(54 * MIB);
        assertThat(GpuLoadGate.neededBytes(Precision.FP16, 90 * MIB)).as("half the weights at fp16")
                .isEqualTo(54 * MIB);
    }

    @Test
    void theRoomAboveTheWeightsIsAtMostTwoGibibytes() {
        assertThat(GpuLoadGate.neededBytes(Precision.FP32, 10 * GIB)).isEqualTo(12 * GIB);
        assertThat(GpuLoadGate.neededBytes(Precision.FP32, 40 * GIB)).isEqualTo(42 * GIB);
        // A billion 64-d FP16 embedding rows (128 GB) fit an H200's 139 GiB with the room for a forward pass.
        long tables = 1_000_000_000L * 64 * 2;
        assertThat(GpuLoadGate.neededBytes(Precision.FP32, tables)).isEqualTo(tables + 2 * GIB)
                .isLessThan(139 * GIB);
    }
}
