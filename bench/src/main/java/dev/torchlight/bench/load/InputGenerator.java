package dev.torchlight.bench.load;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/** Random input data for a model's declared inputs; the same seed gives the same bytes. */
final class InputGenerator {
    private final SplittableRandom random;

    InputGenerator(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** The next set of inputs, one tensor per spec, with {@code batch} rows where the model batches. */
    List<InputTensor> next(List<InputSpec> specs, int batch) {
        List<InputTensor> tensors = new ArrayList<>(specs.size());
        for (InputSpec spec : specs) {
            long[] shape = spec.concreteShape(batch);
            long count = 1;
            for (long d : shape) {
                count = Math.multiplyExact(count, d);
            }
            long bytes = Math.multiplyExact(count, spec.datatype().byteSize());
            if (bytes > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("input " + spec.name() + " of shape "
                        + Arrays.toString(shape) + " is too large to generate; pass --input-file");
            }
            ByteBuffer data = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
            while (data.hasRemaining()) {
                put(data, spec.datatype());
            }
            tensors.add(new InputTensor(spec.name(), spec.datatype(), shape, data.flip()));
        }
        return tensors;
    }

    // The same ranges as raw mode: floats in [0, 1) look like normalised features or pixels;
    // small non-negative integers stay valid as indices or token ids for any model.
    private void put(ByteBuffer data, Datatype type) {
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
