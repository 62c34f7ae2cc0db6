package dev.torchlight.engine.libtorch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.api.DataType;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.EngineSettings;
import dev.torchlight.config.HandlerSpec;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.engine.Placement;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class LibTorchModelMemoryTest {
    private static final int CALLS = 2_000;
    private static final int SIDE = 256;
    private static final long MIB = 1024 * 1024;

    @Test
    void callsLeaveNoNativeMemoryBehind() throws IOException {
        // A 256 KiB input whose transpose needs a 256 KiB contiguous copy before it is read out: a
        // call that leaked its outputs or that copy would leak at least 500 MiB over all the calls.
        ModelConfig config = new ModelConfig("transposed", "torchscript", 0,
                List.of(new TensorSpec("x", DataType.FP32, new long[] {SIDE, SIDE})),
                List.of(new TensorSpec("y", DataType.FP32, new long[] {SIDE, SIDE})), null, List.of(),
                EngineSettings.DEFAULT, HandlerSpec.TENSOR);
        // On the heap, so that every call also copies it into native memory.
        Tensor x = new Tensor("x", DataType.FP32, new long[] {SIDE, SIDE}, ByteBuffer.allocate(SIDE * SIDE * 4));
        try (LoadedModel model = new LibTorchEngine().load(config, TestData.fixture("transposed.pt"), Placement.CPU)) {
            for (int i = 0; i < 1_000; i++) {
                model.infer(List.of(x)); // until malloc and the graph executor settle
            }
            long before = nativeBytes();

            for (int i = 0; i < CALLS; i++) {
                assertThat(model.infer(List.of(x)).get(0).elementCount()).isEqualTo(SIDE * SIDE);
            }

            long growth = nativeBytes() - before;
            assertThat(growth).as("native memory growth over %d calls", CALLS).isLessThan(128 * MIB);
        }
    }

    /**
     * Resident memory outside the JVM's own: the process's RSS (from /proc; Linux is the only
     * platform this engine ships for) less what the JVM has committed for heap, metaspace and code
     * and for direct buffers. Output copies are heap garbage, and a growing heap must not count.
     */
    private static long nativeBytes() throws IOException {
        System.gc();
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long jvm = memory.getHeapMemoryUsage().getCommitted() + memory.getNonHeapMemoryUsage().getCommitted();
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            jvm += pool.getMemoryUsed();
        }
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024 - jvm;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
