package dev.torchlight.registry;

import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.Precision;
import dev.torchlight.engine.DeviceMemory;
import dev.torchlight.engine.Engine;
import dev.torchlight.engine.EngineException;
import dev.torchlight.engine.LoadedModel;
import dev.torchlight.engine.Placement;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Supplier;

/**
 * Loads instances onto a GPU only when its free memory can hold them: before each load it compares
 * what the driver reports free with an estimate of the model's weights on the device, and refuses
 * with a message instead of running out of memory halfway through a load. Loads onto one GPU take
 * turns, so each check sees what the previous load took; CPU loads pass straight through.
 */
final class GpuLoadGate {
    /** Room above the weights for what a forward pass allocates besides them. */
    static final double HEADROOM = 1.2;
    /**
     * The most room asked above the weights: a model whose weights are tens of gigabytes (embedding
     * tables) computes no larger activations for it, and 20% of 128 GB would refuse a model that fits.
     */
    static final long MAX_HEADROOM_BYTES = 2L << 30;

    private static final long MIB = 1L << 20;

    private final Engine engine;
    private final ConcurrentMap<Integer, Object> deviceLocks = new ConcurrentHashMap<>();

    GpuLoadGate(Engine engine) {
        this.engine = engine;
    }

    /**
     * Runs {@code load} for an instance of {@code config} at {@code placement}.
     *
     * @throws EngineException when the GPU has too little free memory; {@code load} is not run then
     */
    LoadedModel load(ModelConfig config, Path file, Placement placement, Supplier<LoadedModel> load) {
        if (!placement.onGpu()) {
            return load.get();
        }
        synchronized (deviceLocks.computeIfAbsent(placement.device(), d -> new Object())) {
            Optional<DeviceMemory> memory = engine.deviceMemory(placement.device());
            if (memory.isPresent()) {
                long needed = neededBytes(config, file);
                DeviceMemory m = memory.get();
                if (m.freeBytes() < needed) {
                    throw new EngineException("model '" + config.name() + "': not loading an instance on " + placement
                            + ": it needs about " + needed / MIB + " MiB there (the weights in " + file.getFileName()
                            + (config.engine().precision() == Precision.FP32 ? "" : " at " + config.engine().precision().key())
                            + ", plus " + Math.round((HEADROOM - 1) * 100) + "% for the forward pass, at most "
                            + MAX_HEADROOM_BYTES / MIB + " MiB), but only "
                            + m.freeBytes() / MIB + " MiB of its " + m.totalBytes() / MIB + " MiB are free");
                }
            }
            return load.get();
        }
    }

    /**
     * The weights' size on the device, estimated from the file (which holds them at the precision they
     * were saved in, normally FP32), halved when the model computes in 16 bits, plus the headroom.
     */
    static long neededBytes(ModelConfig config, Path file) {
        try {
            return neededBytes(config.engine().precision(), Files.size(file));
        } catch (IOException e) {
            return 0; // the engine's own load reports the unreadable file
        }
    }

    /** {@link #neededBytes(ModelConfig, Path)} for a file of {@code fileBytes}. */
    static long neededBytes(Precision precision, long fileBytes) {
        double weights = precision == Precision.FP32 ? fileBytes : fileBytes / 2.0;
        return (long) (weights + Math.min(weights * (HEADROOM - 1), MAX_HEADROOM_BYTES));
    }
}
