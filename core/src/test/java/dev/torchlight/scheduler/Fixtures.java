package dev.torchlight.scheduler;

import dev.torchlight.api.DataType;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.DynamicBatching;
import dev.torchlight.config.EngineSettings;
import dev.torchlight.config.HandlerSpec;
import dev.torchlight.config.InstanceGroup;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.engine.Placement;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Configs and tensors for scheduler tests. The test model takes one INT64 input {@code x} of shape
 * {@code [batch, -1]} (so requests can differ in their non-batch shape) and returns {@code y} of the
 * same shape.
 */
final class Fixtures {
    private Fixtures() {}

    static final List<TensorSpec> INPUTS = List.of(new TensorSpec("x", DataType.INT64, new long[] {-1}));
    static final List<TensorSpec> OUTPUTS = List.of(new TensorSpec("y", DataType.INT64, new long[] {-1}));

    static DynamicBatching batching(long delayMicros, List<Integer> preferred, int maxQueueSize, long defaultTimeoutMs,
            int levels, int defaultLevel) {
        return new DynamicBatching(delayMicros, preferred, maxQueueSize, defaultTimeoutMs, levels, defaultLevel);
    }

    static DynamicBatching batching(long delayMicros, Integer... preferred) {
        return batching(delayMicros, List.of(preferred), 0, 0, 0, 0);
    }

    static ModelConfig config(int maxBatchSize, DynamicBatching batching) {
        return config(maxBatchSize, batching, 1);
    }

    static ModelConfig config(int maxBatchSize, DynamicBatching batching, int instances) {
        return new ModelConfig("m", "torchscript", maxBatchSize, INPUTS, OUTPUTS, batching,
                List.of(new InstanceGroup(instances, InstanceGroup.Kind.CPU, List.of())), EngineSettings.DEFAULT, HandlerSpec.TENSOR);
    }

    /** {@code count} CPU placements. */
    static List<Placement> cpus(int count) {
        return InstancePlacement.scaled(List.of(Placement.CPU), count);
    }

    /** Where the instances of {@code config} run on a machine without GPUs. */
    static List<Placement> cpus(ModelConfig config) {
        return InstancePlacement.of(config, 0);
    }

    /** INT64 {@code [rows, width]} whose row r holds {@code id, r, r, ...}. */
    static Tensor rowsOf(long id, int rows, int width) {
        ByteBuffer b = ByteBuffer.allocate(rows * width * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < rows; r++) {
            b.putLong(id);
            for (int c = 1; c < width; c++) {
                b.putLong(r);
            }
        }
        return new Tensor("x", DataType.INT64, new long[] {rows, width}, b.flip());
    }

    static long[] longs(Tensor t) {
        ByteBuffer b = t.data();
        long[] out = new long[b.remaining() / 8];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.getLong();
        }
        return out;
    }

    /** A request as the policy sees it: {@code rows} rows of width {@code width}, named by {@code id}. */
    static PendingRequest pending(long id, int rows, int width, int level, long enqueued, long deadline) {
        List<Tensor> inputs = List.of(rowsOf(id, rows, width));
        return new PendingRequest(inputs, rows, ShapeKey.of(inputs, true), level, enqueued, deadline,
                new FutureAnswer());
    }

    /** An answer a test waits on: the outputs, or the failure; it also keeps the timing it was told. */
    static final class FutureAnswer extends CompletableFuture<List<Tensor>> implements Answer {
        volatile long queueNanos = -1;
        volatile long computeNanos = -1;

        @Override
        public void succeed(List<Tensor> outputs, long queueNanos, long computeNanos) {
            this.queueNanos = queueNanos;
            this.computeNanos = computeNanos;
            complete(outputs);
        }

        @Override
        public void fail(Throwable error) {
            completeExceptionally(error);
        }
    }
}
