package dev.torchlight.config;

import java.util.Objects;

/**
 * How the engine runs a model's instances: the settings of {@code config.yaml} that only the engine
 * reads.
 *
 * @param intraOpThreads threads libtorch uses inside one operator; 0 shares the cores among the
 *     instances of every model
 * @param freeze TorchScript models only: {@code torch.jit.freeze} and {@code optimize_for_inference}
 *     once at load, so that weights are folded and pre-packed instead of re-packed on every call
 * @param precision the floating-point type the model computes in (TorchScript only)
 * @param gpu what GPU instances do besides
 */
public record EngineSettings(int intraOpThreads, boolean freeze, Precision precision, GpuSettings gpu) {
    /** Whether TorchScript models are frozen when their config does not say. */
    public static final boolean DEFAULT_FREEZE = true;

    /** Threads shared out, freezing as {@link #DEFAULT_FREEZE}, FP32, the GPU defaults. */
    public static final EngineSettings DEFAULT = new EngineSettings(0, DEFAULT_FREEZE, Precision.FP32,
            GpuSettings.DEFAULT);

    public EngineSettings {
        if (intraOpThreads < 0) {
            throw new IllegalArgumentException(
                    "intraOpThreads must be 0 (a share of the cores) or positive, got " + intraOpThreads);
        }
        Objects.requireNonNull(precision, "precision");
        Objects.requireNonNull(gpu, "gpu");
    }

    /** These settings with a fixed number of intra-op threads. */
    public EngineSettings withIntraOpThreads(int threads) {
        return new EngineSettings(threads, freeze, precision, gpu);
    }

    /** These settings with freezing on or off. */
    public EngineSettings withFreeze(boolean on) {
        return new EngineSettings(intraOpThreads, on, precision, gpu);
    }

    /** These settings computing in {@code other}. */
    public EngineSettings withPrecision(Precision other) {
        return new EngineSettings(intraOpThreads, freeze, other, gpu);
    }

    /** These settings with other GPU settings. */
    public EngineSettings withGpu(GpuSettings other) {
        return new EngineSettings(intraOpThreads, freeze, precision, other);
    }
}
