package dev.torchlight.engine.libtorch;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.api.DataType;
import dev.torchlight.api.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Where {@link CallFrame} puts the inputs it describes: in place, in ordinary scratch memory, or all
 * of them in pinned memory (here a stand-in that records what it hands out and gets back).
 */
@SuppressWarnings("restricted")
class CallFrameTest {
    /** Hands out blocks from its own arena and records allocations and frees. */
    static final class FakePinned implements CallFrame.PinnedMemory {
        final Arena arena = Arena.ofShared();
        final List<MemorySegment> live = new ArrayList<>();
        final List<Long> sizes = new ArrayList<>();
        boolean refuse;

        @Override
        public MemorySegment allocate(long bytes) {
            if (refuse) {
                throw new IllegalStateException("cannot pin " + bytes + " bytes");
            }
            MemorySegment block = arena.allocate(bytes, 64);
            live.add(block);
            sizes.add(bytes);
            return block;
        }

        @Override
        public void free(MemorySegment block) {
            assertThat(live.removeIf(b -> b.address() == block.address())).as("freed once, and only what was given")
                    .isTrue();
        }

        boolean holds(long address, long bytes) {
            return live.stream().anyMatch(b -> address >= b.address() && address + bytes <= b.address() + b.byteSize());
        }
    }

    private static Tensor floats(boolean direct, int count, float first) {
        ByteBuffer data = (direct ? ByteBuffer.allocateDirect(count * 4) : ByteBuffer.allocate(count * 4))
                .order(ByteOrder.nativeOrder());
        for (int i = 0; i < count; i++) {
            data.putFloat(i * 4, first + i);
        }
        return new Tensor("x", DataType.FP32, new long[] {count}, data);
    }

    private static long dataAddress(MemorySegment tensors, int i) {
        return tensors.get(ADDRESS, i * EngineLibrary.TENSOR.byteSize() + 16).address();
    }

    private static float firstFloat(MemorySegment tensors, int i) {
        return tensors.get(ADDRESS, i * EngineLibrary.TENSOR.byteSize() + 16).reinterpret(4)
                .get(java.lang.foreign.ValueLayout.JAVA_FLOAT, 0);
    }

    @Test
    void withoutPinnedMemoryDirectInputsAreReadInPlaceAndHeapOnesCopied() {
        Tensor direct = floats(true, 8, 1);
        Tensor heap = floats(false, 8, 100);
        try (CallFrame frame = new CallFrame(2, new int[0])) {
            MemorySegment tensors = frame.describe(List.of(direct, heap));
            assertThat(frame.pinned()).isFalse();
            assertThat(dataAddress(tensors, 0)).isEqualTo(MemorySegment.ofBuffer(direct.data()).address());
            assertThat(firstFloat(tensors, 1)).isEqualTo(100f);
            assertThat(tensors.get(JAVA_LONG, EngineLibrary.TENSOR.byteSize() + 24)).isEqualTo(32);
        }
    }

    @Test
    void withPinnedMemoryEveryInputIsCopiedThereAndTheBlocksGoBack() {
        FakePinned pinned = new FakePinned();
        try (CallFrame frame = new CallFrame(2, new int[0], pinned)) {
            MemorySegment tensors = frame.describe(List.of(floats(true, 8, 1), floats(false, 8, 100)));
            assertThat(frame.pinned()).isTrue();
            for (int i = 0; i < 2; i++) {
                assertThat(pinned.holds(dataAddress(tensors, i), 32)).as("input %d in the pinned block", i).isTrue();
            }
            assertThat(firstFloat(tensors, 0)).isEqualTo(1f);
            assertThat(firstFloat(tensors, 1)).isEqualTo(100f);
            assertThat(pinned.live).hasSize(1);

            // A larger call grows the block: the old one goes back, the new one at least doubles.
            tensors = frame.describe(List.of(floats(true, 1000, 5), floats(true, 1000, 7)));
            assertThat(pinned.live).hasSize(1);
            assertThat(pinned.sizes).hasSize(2);
            assertThat(pinned.sizes.get(1)).isGreaterThanOrEqualTo(8000);
            assertThat(pinned.holds(dataAddress(tensors, 1), 4000)).isTrue();
            assertThat(firstFloat(tensors, 1)).isEqualTo(7f);

            // A smaller one reuses it.
            frame.describe(List.of(floats(false, 4, 0), floats(false, 4, 0)));
            assertThat(pinned.sizes).hasSize(2);
        }
        assertThat(pinned.live).as("closing the frame frees its block").isEmpty();
    }

    @Test
    void whenTheHostRefusesToPinTheFrameGoesOnWithOrdinaryMemory() {
        FakePinned pinned = new FakePinned();
        pinned.refuse = true;
        Tensor direct = floats(true, 8, 1);
        try (CallFrame frame = new CallFrame(1, new int[0], pinned)) {
            MemorySegment tensors = frame.describe(List.of(direct));
            assertThat(frame.pinned()).isFalse();
            assertThat(firstFloat(tensors, 0)).isEqualTo(1f);
            // From then on, direct inputs are read in place again.
            tensors = frame.describe(List.of(direct));
            assertThat(dataAddress(tensors, 0)).isEqualTo(MemorySegment.ofBuffer(direct.data()).address());
        }
        assertThat(pinned.live).isEmpty();
    }
}
