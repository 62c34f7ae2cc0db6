package dev.torchlight.bench.raw;

import dev.torchlight.api.DataType;
import dev.torchlight.api.Shapes;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Random input tensors shaped by a model's config, the same for the same seed. */
final class RandomTensors {
    /** libtorch reads native, aligned memory in place; anything else the engine copies first. */
    private static final int ALIGNMENT = 64;

    private RandomTensors() {}

    /**
     * One tensor per spec: {@code [batch, ...shape]} when {@code batch > 0}, the declared shape
     * alone when the model is unbatched ({@code batch == 0}); variable dimensions (-1) become 1.
     * Integers of an input with a {@code value_range} are drawn from all of it (ids spread over a
     * whole embedding table, as real traffic's are).
     */
    static List<Tensor> of(List<TensorSpec> specs, int batch, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Tensor> tensors = new ArrayList<>(specs.size());
        for (TensorSpec spec : specs) {
            long[] shape = shape(spec.shape(), batch);
            long bytes = Math.multiplyExact(Shapes.elementCount(shape), spec.dataType().byteSize());
            ByteBuffer data = aligned(bytes);
            for (long element = 0; data.hasRemaining(); element++) {
                if (spec.valueRange() != null) {
                    putInRange(data, spec, element, random);
                } else {
                    put(data, spec.dataType(), random);
                }
            }
            tensors.add(new Tensor(spec.name(), spec.dataType(), shape, data.flip()));
        }
        return tensors;
    }

    /** {@code bytes} of native memory, aligned as libtorch reads it in place, little-endian. */
    static ByteBuffer aligned(long bytes) {
        // alignedSlice rounds both ends inwards: round the size up and leave room for the start.
        int rounded = Math.toIntExact((bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT);
        ByteBuffer data = ByteBuffer.allocateDirect(rounded + ALIGNMENT)
                .alignedSlice(ALIGNMENT).order(ByteOrder.LITTLE_ENDIAN);
        return data.limit(Math.toIntExact(bytes));
    }

    static long[] shape(long[] declared, int batch) {
        int offset = batch > 0 ? 1 : 0;
        long[] shape = new long[declared.length + offset];
        if (batch > 0) {
            shape[0] = batch;
        }
        for (int i = 0; i < declared.length; i++) {
            shape[i + offset] = declared[i] == -1 ? 1 : declared[i];
        }
        return shape;
    }

    private static void putInRange(ByteBuffer data, TensorSpec spec, long element, SplittableRandom random) {
        long min = spec.valueRange().min(element);
        long max = spec.valueRange().max(element);
        long v = max == Long.MAX_VALUE ? random.nextLong(min, max) : random.nextLong(min, max + 1);
        switch (spec.dataType()) {
            case INT64 -> data.putLong(v);
            case INT32 -> data.putInt((int) v);
            case INT16 -> data.putShort((short) v);
            default -> data.put((byte) v);
        }
    }

    // Floats in [0, 1) look like normalised features or pixels; small non-negative integers stay
    // valid as indices or token ids for any model that takes them.
    private static void put(ByteBuffer data, DataType type, SplittableRandom random) {
        switch (type) {
            case BOOL -> data.put((byte) random.nextInt(2));
            case UINT8 -> data.put((byte) random.nextInt(256));
            case INT8 -> data.put((byte) random.nextInt(100));
            case INT16 -> data.putShort((short) random.nextInt(100));
            case INT32 -> data.putInt(random.nextInt(100));
            case INT64 -> data.putLong(random.nextInt(100));
            case FP16 -> data.putShort(Float.floatToFloat16((float) random.nextDouble()));
            case BF16 -> data.putShort((short) (Float.floatToRawIntBits((float) random.nextDouble()) >>> 16));
            case FP32 -> data.putFloat((float) random.nextDouble());
            case FP64 -> data.putDouble(random.nextDouble());
        }
    }
}
