package dev.torchlight.registry;

import dev.torchlight.api.DataType;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.engine.Engine;
import dev.torchlight.engine.EngineException;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.engine.Placement;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An engine whose "model file" holds a number: the loaded model adds it to every FP32 input and
 * returns input {@code i} as declared output {@code i}. A file starting with {@code fail} makes the
 * load fail with the file's text as the reason.
 */
final class FakeEngine implements Engine {
    final List<FakeModel> loaded = new CopyOnWriteArrayList<>();
    /** Where each load placed its instance, in load order. */
    final List<Placement> placements = new CopyOnWriteArrayList<>();
    /** GPUs this engine claims to have; placements on them load like CPU ones. */
    volatile int gpus;
    /** Runs at the start of every load; a test may block or fail it. */
    volatile Runnable beforeLoad = () -> { };

    @Override
    public String name() {
        return "fake";
    }

    @Override
    public int gpuCount() {
        return gpus;
    }

    @Override
    public LoadedModel load(ModelConfig config, Path modelFile, Placement placement) {
        beforeLoad.run();
        placements.add(placement);
        String spec;
        try {
            spec = Files.readString(modelFile).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (spec.startsWith("fail")) {
            throw new EngineException("cannot load " + modelFile + ": " + spec);
        }
        FakeModel model = new FakeModel(config, Float.parseFloat(spec));
        loaded.add(model);
        return model;
    }

    static final class FakeModel implements LoadedModel {
        final ModelConfig config;
        final float delta;
        /** The next infer throws this (an {@link EngineException} message), once. */
        final AtomicReference<String> failNext = new AtomicReference<>();
        /** The next infer throws this unchecked exception, once. */
        final AtomicReference<RuntimeException> crashNext = new AtomicReference<>();
        final AtomicInteger calls = new AtomicInteger();
        /** The batch size (first dimension of the first input) of every call, in order. */
        final List<Long> batchSizes = new CopyOnWriteArrayList<>();
        /** Runs at the start of every infer; a test may block it. */
        volatile Runnable beforeInfer = () -> { };
        volatile boolean closed;

        FakeModel(ModelConfig config, float delta) {
            this.config = config;
            this.delta = delta;
        }

        @Override
        public List<Tensor> infer(List<Tensor> inputs) {
            if (closed) {
                throw new IllegalStateException("infer after close");
            }
            beforeInfer.run();
            calls.incrementAndGet();
            batchSizes.add(inputs.get(0).rank() > 0 ? inputs.get(0).dim(0) : 1);
            String failure = failNext.getAndSet(null);
            if (failure != null) {
                throw new EngineException(failure);
            }
            RuntimeException crash = crashNext.getAndSet(null);
            if (crash != null) {
                throw crash;
            }
            List<Tensor> outputs = new ArrayList<>();
            for (int i = 0; i < config.outputs().size(); i++) {
                Tensor in = inputs.get(i);
                ByteBuffer src = in.data();
                ByteBuffer out = ByteBuffer.allocate(src.remaining()).order(ByteOrder.LITTLE_ENDIAN);
                if (in.dataType() == DataType.FP32) {
                    while (src.hasRemaining()) {
                        out.putFloat(src.getFloat() + delta);
                    }
                } else {
                    out.put(src);
                }
                outputs.add(new Tensor(config.outputs().get(i).name(), in.dataType(), in.shape(), out.flip()));
            }
            return outputs;
        }

        @Override
        public void close() {
            closed = true;
        }
    }
}
