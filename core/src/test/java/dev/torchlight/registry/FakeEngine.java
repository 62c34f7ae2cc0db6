package dev.torchlight.registry;

import dev.torchlight.api.DataType;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.Precision;
import dev.torchlight.engine.DeviceAllocation;
import dev.torchlight.engine.DeviceMemory;
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
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An engine whose "model file" holds a number: the loaded model adds it to every FP32 input and
 * returns input {@code i} as declared output {@code i}. A file starting with {@code fail} makes the
 * load fail with the file's text as the reason. It can claim GPUs: an instance placed on one takes
 * the file's size (half of it at FP16/BF16) of that GPU's memory until it is closed, and gets a
 * stream of its own.
 */
final class FakeEngine implements Engine {
    final List<FakeModel> loaded = new CopyOnWriteArrayList<>();
    /** Where each load placed its instance, in load order. */
    final List<Placement> placements = new CopyOnWriteArrayList<>();
    /** GPUs this engine claims to have; placements on them load like CPU ones. */
    volatile int gpus;
    /** Runs at the start of every load; a test may block or fail it. */
    volatile Runnable beforeLoad = () -> { };

    /** Makes every load from now on wait (at most 10 s) until the returned latch is counted down. */
    CountDownLatch holdLoads() {
        CountDownLatch release = new CountDownLatch(1);
        beforeLoad = () -> {
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        };
        return release;
    }
    /** Memory of each claimed GPU; 0: the engine does not report device memory. */
    volatile long deviceTotalBytes;
    /** Memory the loaded instances hold, per GPU. */
    final ConcurrentMap<Integer, AtomicLong> deviceUsed = new ConcurrentHashMap<>();
    private final AtomicInteger streams = new AtomicInteger();

    @Override
    public String name() {
        return "fake";
    }

    @Override
    public int gpuCount() {
        return gpus;
    }

    @Override
    public Optional<DeviceMemory> deviceMemory(int device) {
        if (deviceTotalBytes == 0 || device >= gpus) {
            return Optional.empty();
        }
        return Optional.of(new DeviceMemory(device, deviceTotalBytes - used(device), deviceTotalBytes));
    }

    @Override
    public List<DeviceAllocation> deviceAllocations() {
        List<DeviceAllocation> all = new ArrayList<>();
        for (int d = 0; d < gpus; d++) {
            all.add(new DeviceAllocation(d, used(d), used(d), used(d)));
        }
        return all;
    }

    long used(int device) {
        return deviceUsed.computeIfAbsent(device, d -> new AtomicLong()).get();
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
        if (placement.onGpu()) {
            long size;
            try {
                size = Files.size(modelFile);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            long bytes = config.engine().precision() == Precision.FP32 ? size : size / 2;
            AtomicLong used = deviceUsed.computeIfAbsent(placement.device(), d -> new AtomicLong());
            used.addAndGet(bytes);
            model.onClose = () -> used.addAndGet(-bytes);
            model.stream = placement + "/stream " + streams.incrementAndGet();
        }
        loaded.add(model);
        return model;
    }

    static final class FakeModel implements LoadedModel {
        final ModelConfig config;
        final float delta;
        /** The next infer throws this (an {@link EngineException} message), once. */
        final AtomicReference<String> failNext = new AtomicReference<>();
        /** Inputs the model rejects, as a model does an index out of its table: a value above this. */
        volatile float rejectAbove = Float.POSITIVE_INFINITY;
        /** The next infer throws this engine failure (of any kind), once. */
        final AtomicReference<EngineException> throwNext = new AtomicReference<>();
        /** The next infer throws this unchecked exception, once. */
        final AtomicReference<RuntimeException> crashNext = new AtomicReference<>();
        /** Frees what the instance holds on its GPU. */
        volatile Runnable onClose = () -> { };
        volatile String stream = "";
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
            EngineException thrown = throwNext.getAndSet(null);
            if (thrown != null) {
                throw thrown;
            }
            if (inputs.get(0).dataType() == DataType.FP32) {
                ByteBuffer values = inputs.get(0).data();
                for (int i = values.position(); i < values.limit(); i += Float.BYTES) {
                    if (values.getFloat(i) > rejectAbove) {
                        throw new EngineException("index " + values.getFloat(i) + " is out of bounds");
                    }
                }
            }
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
        public String stream() {
            return stream;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                onClose.run();
            }
        }
    }
}
