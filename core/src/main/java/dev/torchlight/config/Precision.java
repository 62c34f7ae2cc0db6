package dev.torchlight.config;

import java.util.Locale;

/**
 * The floating-point type a model computes in ({@code precision} in config.yaml). The engine converts
 * the module's floating-point parameters and buffers once at load and casts floating-point inputs
 * and outputs at the boundary, so clients keep the datatypes the config declares.
 */
public enum Precision {
    /** As saved (normally 32-bit floats). */
    FP32,
    /** IEEE half precision: tensor cores on GPUs, about twice FP32's throughput there. */
    FP16,
    /** bfloat16: FP32's range with half the bits; safer than FP16 for models with large activations. */
    BF16;

    /** The name used in config.yaml: {@code fp32}, {@code fp16} or {@code bf16}. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }
}
