package dev.torchlight.engine.libtorch;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.torchlight.api.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The native memory one model instance passes to the engine library on each call, allocated once
 * and reused: the input descriptors with their shapes, the outputs handle and the output slots, the
 * types floating-point outputs are cast to, and a scratch area for inputs that cannot be read in place.
 *
 * <p>An input is read in place when it is native memory (a direct buffer, as batches and network
 * payloads are) aligned to its element size; otherwise it is copied into the scratch area first,
 * 64-byte aligned. The scratch area only grows, at least doubling each time, so what it holds stays
 * within a small multiple of the largest call's copied inputs.
 *
 * <p>For a model on a GPU with pinned buffers, the scratch area is page-locked memory from the engine
 * library and every input is copied into it: the library then copies it to the device as it is,
 * asynchronously, where it would otherwise first copy the input into pinned staging itself. One copy
 * of each input instead of two (38 MB for a batch of 64 images). Should the host refuse to lock
 * memory, the frame goes on with ordinary memory and the library stages.
 * Used by one thread at a time, like the model it belongs to.
 */
final class CallFrame implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CallFrame.class);
    private static final long ALIGNMENT = 64;

    /** Shared, not confined: the instance may be closed from another thread than its worker's. */
    private final Arena arena = Arena.ofShared();
    private final int inputs;
    private final MemorySegment tensors;
    /** Per input, its descriptor and its shape's slots within {@link #tensors} and the shapes area. */
    private final MemorySegment[] descriptors;
    private final MemorySegment[] shapes;
    private final MemorySegment outputsHandle;
    private final EngineLibrary.OutputSlots outputSlots;
    private final MemorySegment floatOutputs;
    private final int floatOutputCount;
    private MemorySegment scratch = MemorySegment.NULL;
    /** Where the scratch area comes from (and goes back to) when pinned; null once ordinary memory is used. */
    private PinnedMemory pinned;

    /** Page-locked host memory: the engine library's, or a test's stand-in. */
    interface PinnedMemory {
        /** @throws RuntimeException when the memory cannot be had */
        MemorySegment allocate(long bytes);

        void free(MemorySegment block);
    }

    /**
     * @param floatOutputs the ABI type codes floating-point outputs are cast to, by position (-1: as
     *     returned); empty for outputs as returned
     */
    CallFrame(int inputs, int[] floatOutputs) {
        this(inputs, floatOutputs, null);
    }

    /** @param pinned where the scratch area comes from, every input copied there; null: ordinary memory */
    CallFrame(int inputs, int[] floatOutputs, PinnedMemory pinned) {
        this.pinned = pinned;
        this.inputs = inputs;
        this.floatOutputCount = floatOutputs.length;
        this.floatOutputs = floatOutputs.length == 0 ? MemorySegment.NULL : arena.allocateFrom(JAVA_INT, floatOutputs);
        tensors = arena.allocate(EngineLibrary.TENSOR, inputs);
        MemorySegment shapeArea = arena.allocate(JAVA_LONG, (long) inputs * EngineLibrary.MAX_DIMS);
        descriptors = new MemorySegment[inputs];
        shapes = new MemorySegment[inputs];
        long shapeBytes = (long) EngineLibrary.MAX_DIMS * Long.BYTES;
        for (int i = 0; i < inputs; i++) {
            descriptors[i] = tensors.asSlice(i * EngineLibrary.TENSOR.byteSize(), EngineLibrary.TENSOR);
            shapes[i] = shapeArea.asSlice(i * shapeBytes, shapeBytes);
        }
        outputsHandle = arena.allocate(ADDRESS);
        outputSlots = EngineLibrary.OutputSlots.of(arena.allocate(EngineLibrary.OUTPUT));
    }

    /**
     * Describes {@code values} (one per declared input, already checked against the config) in the
     * input descriptors.
     */
    MemorySegment describe(List<Tensor> values) {
        long scratchNeeded = 0;
        for (int i = 0; i < inputs; i++) {
            Tensor tensor = values.get(i);
            ByteBuffer data = tensor.data();
            if (!readInPlace(data, tensor)) {
                scratchNeeded += aligned(data.remaining());
            }
        }
        ensureScratch(scratchNeeded);
        long scratchOffset = 0;
        for (int i = 0; i < inputs; i++) {
            Tensor tensor = values.get(i);
            ByteBuffer data = tensor.data();
            long bytes = data.remaining();
            MemorySegment memory;
            if (readInPlace(data, tensor)) {
                memory = MemorySegment.ofBuffer(data);
            } else {
                memory = scratch.asSlice(scratchOffset, bytes);
                MemorySegment.copy(MemorySegment.ofBuffer(data), 0, memory, 0, bytes);
                scratchOffset += aligned(bytes);
            }
            MemorySegment shape = shapes[i];
            int rank = tensor.rank();
            for (int d = 0; d < rank; d++) {
                shape.setAtIndex(JAVA_LONG, d, tensor.dim(d));
            }
            MemorySegment descriptor = descriptors[i];
            descriptor.set(JAVA_INT, 0, DataTypeCodes.code(tensor.dataType()));
            descriptor.set(JAVA_INT, 4, rank);
            descriptor.set(ADDRESS, 8, shape);
            descriptor.set(ADDRESS, 16, bytes == 0 ? MemorySegment.NULL : memory);
            descriptor.set(JAVA_LONG, 24, bytes);
        }
        return tensors;
    }

    /** Where the library writes the outputs handle of a run. */
    MemorySegment outputsHandle() {
        return outputsHandle;
    }

    /** The {@code float_outputs} array of {@code tl_model_run}; NULL when there is none. */
    MemorySegment floatOutputs() {
        return floatOutputs;
    }

    int floatOutputCount() {
        return floatOutputCount;
    }

    /** The slots {@code tl_output} fills. */
    EngineLibrary.OutputSlots outputSlots() {
        return outputSlots;
    }

    /** Whether the scratch area is page-locked memory, which every input is copied into. */
    boolean pinned() {
        return pinned != null;
    }

    /** @param data the tensor's {@link Tensor#data()} */
    private boolean readInPlace(ByteBuffer data, Tensor tensor) {
        return pinned == null && data.isDirect() && data.alignmentOffset(0, tensor.dataType().byteSize()) == 0
                || data.remaining() == 0;
    }

    private void ensureScratch(long bytes) {
        if (bytes <= scratch.byteSize()) {
            return;
        }
        long size = Math.max(bytes, 2 * scratch.byteSize());
        releaseScratch();
        if (pinned != null) {
            try {
                scratch = pinned.allocate(size);
                return;
            } catch (RuntimeException e) {
                pinned = null; // the library stages each input in pinned memory itself
                LOG.warn("cannot pin {} bytes of host memory for a model's inputs, copying them to the GPU through"
                        + " the engine's staging instead: {}", size, e.getMessage());
            }
        }
        scratch = arena.allocate(size, ALIGNMENT);
    }

    private void releaseScratch() {
        // While pinned memory is in use, any scratch area came from it; an arena's goes with the arena.
        if (pinned != null && scratch.byteSize() > 0) {
            pinned.free(scratch);
        }
        scratch = MemorySegment.NULL;
    }

    private static long aligned(long bytes) {
        return (bytes + ALIGNMENT - 1) & -ALIGNMENT;
    }

    @Override
    public void close() {
        try {
            releaseScratch();
        } finally {
            arena.close();
        }
    }
}
