package dev.torchlight.registry;

import dev.torchlight.api.DataType;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.ConfigException;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.config.ValueRange;
import dev.torchlight.config.WarmupSample;
import dev.torchlight.engine.EngineException;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.scheduler.BatchLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Runs a freshly loaded instance before it takes traffic, so that the first requests do not pay
 * for lazy initialisation and for each new input shape. Without configured samples it runs every
 * batch size from 1 to {@code max_batch_size} (any of which the scheduler may form) with generated
 * inputs: random values in [0, 1) for floating-point inputs, zeros for integer ones (safe as
 * indices; the smallest allowed value where a {@code value_range} excludes 0), and 1 for each
 * variable dimension. Inputs reach the model as batches do ({@link BatchLayout}: ragged inputs
 * flattened, batch inputs appended). It stops at the first batch size that runs out of memory.
 */
final class Warmup {
    private Warmup() {}

    /**
     * @throws RuntimeException what the model threw; a failed warm-up means the instance is not served
     */
    static void run(LoadedModel model, ModelConfig config, List<WarmupSample> samples) {
        BatchLayout layout = BatchLayout.of(config);
        if (!samples.isEmpty()) {
            for (WarmupSample sample : samples) {
                model.infer(layout.modelInputs(read(sample)));
            }
            return;
        }
        SplittableRandom random = new SplittableRandom(42);
        int largest = Math.max(1, config.maxBatchSize());
        for (int batch = 1; batch <= largest; batch++) {
            try {
                model.infer(layout.modelInputs(generate(config, batch, random)));
            } catch (EngineException e) {
                if (!e.outOfMemory() || batch == 1) {
                    throw e;
                }
                // Larger batches do not fit: the scheduler learns the safe size from its own
                // out-of-memory handling; warming them up here would only fail again.
                return;
            }
        }
    }

    /**
     * Runs the warm-up's first input once more (the first sample, or generated inputs of batch 1):
     * the check that an instance whose batches keep failing still works.
     *
     * @throws RuntimeException what the model threw
     */
    static void probe(LoadedModel model, ModelConfig config, List<WarmupSample> samples) {
        BatchLayout layout = BatchLayout.of(config);
        List<Tensor> inputs = samples.isEmpty() ? generate(config, 1, new SplittableRandom(42)) : read(samples.get(0));
        model.infer(layout.modelInputs(inputs));
    }

    private static List<Tensor> generate(ModelConfig config, int batch, SplittableRandom random) {
        List<Tensor> inputs = new ArrayList<>(config.inputs().size());
        for (TensorSpec spec : config.inputs()) {
            inputs.add(generate(spec, config.batched() ? batch : -1, random));
        }
        return inputs;
    }

    private static Tensor generate(TensorSpec spec, int batch, SplittableRandom random) {
        long[] item = spec.shape();
        long[] shape = new long[item.length + (batch > 0 ? 1 : 0)];
        int at = 0;
        if (batch > 0) {
            shape[at++] = batch;
        }
        long elements = batch > 0 ? batch : 1;
        for (long d : item) {
            shape[at++] = d == -1 ? 1 : d;
            elements *= d == -1 ? 1 : d;
        }
        ByteBuffer data = ByteBuffer.allocateDirect(Math.toIntExact(elements * spec.dataType().byteSize()))
                .order(ByteOrder.LITTLE_ENDIAN);
        ValueRange range = spec.valueRange();
        for (long i = 0; i < elements; i++) {
            long integer = range == null || range.contains(i, 0) ? 0 : range.min(i);
            switch (spec.dataType()) {
                case FP32 -> data.putFloat((float) random.nextDouble());
                case FP64 -> data.putDouble(random.nextDouble());
                case FP16 -> data.putShort(Float.floatToFloat16((float) random.nextDouble()));
                // bfloat16 is the top half of a float32.
                case BF16 -> data.putShort((short) (Float.floatToRawIntBits((float) random.nextDouble()) >>> 16));
                case INT64 -> data.putLong(integer);
                case INT32 -> data.putInt((int) integer);
                case INT16 -> data.putShort((short) integer);
                case INT8, UINT8 -> data.put((byte) integer);
                default -> data.put(new byte[spec.dataType().byteSize()]);
            }
        }
        return new Tensor(spec.name(), spec.dataType(), shape, data.flip());
    }

    private static List<Tensor> read(WarmupSample sample) {
        List<Tensor> inputs = new ArrayList<>(sample.inputs().size());
        for (WarmupSample.Input input : sample.inputs()) {
            long elements = 1;
            for (long d : input.shape()) {
                elements *= d;
            }
            DataType type = input.dataType();
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(input.file());
            } catch (IOException e) {
                throw new ConfigException("warm-up input '" + input.name() + "': cannot read " + input.file() + ": "
                        + e.getMessage(), e);
            }
            if (bytes.length != elements * type.byteSize()) {
                throw new ConfigException("warm-up input '" + input.name() + "': " + input.file() + " has "
                        + bytes.length + " bytes; expected " + elements * type.byteSize() + " (" + elements + " "
                        + type + " elements, little-endian)");
            }
            ByteBuffer data = ByteBuffer.allocateDirect(bytes.length).order(ByteOrder.LITTLE_ENDIAN).put(bytes).flip();
            inputs.add(new Tensor(input.name(), type, input.shape(), data));
        }
        return inputs;
    }
}
