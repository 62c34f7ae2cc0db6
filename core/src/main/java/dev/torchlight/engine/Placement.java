package dev.torchlight.engine;

/**
 * Where one model instance runs: on the CPU, on one GPU (a CUDA device ordinal), or where the model
 * places itself (MODEL: loaded as saved, e.g. split across GPUs). Computed for each
 * instance in one place from the model's {@code instance_group} and handed to
 * {@link Engine#load(dev.torchlight.config.ModelConfig, java.nio.file.Path, Placement)}.
 *
 * @param kind CPU, GPU or MODEL
 * @param device the GPU's ordinal; -1 otherwise
 */
public record Placement(Kind kind, int device) {
    /** The processor an instance runs on. */
    public enum Kind {
        CPU,
        GPU,
        /** Loaded as saved and never moved; inputs are handed over on the CPU and the model moves them. */
        MODEL
    }

    /** The CPU. */
    public static final Placement CPU = new Placement(Kind.CPU, -1);

    /** Wherever the model put its parts when it was saved. */
    public static final Placement MODEL = new Placement(Kind.MODEL, -1);

    public Placement {
        if (kind == Kind.GPU ? device < 0 : device != -1) {
            throw new IllegalArgumentException(kind == Kind.GPU ? "a GPU placement needs a device ordinal >= 0, got "
                    + device : "a " + kind + " placement has no device, got " + device);
        }
    }

    /** GPU {@code device}. */
    public static Placement gpu(int device) {
        return new Placement(Kind.GPU, device);
    }

    public boolean onGpu() {
        return kind == Kind.GPU;
    }

    /** {@code cpu} or {@code cuda:N}, as PyTorch names devices; {@code model} for MODEL. */
    @Override
    public String toString() {
        return switch (kind) {
            case CPU -> "cpu";
            case GPU -> "cuda:" + device;
            case MODEL -> "model";
        };
    }
}
