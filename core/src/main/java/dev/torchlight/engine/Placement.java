package dev.torchlight.engine;

/**
 * Where one model instance runs: on the CPU, or on one GPU (a CUDA device ordinal). Computed for each
 * instance in one place from the model's {@code instance_group} and handed to
 * {@link Engine#load(dev.torchlight.config.ModelConfig, java.nio.file.Path, Placement)}.
 *
 * @param kind CPU or GPU
 * @param device the GPU's ordinal; -1 on the CPU
 */
public record Placement(Kind kind, int device) {
    /** The processor an instance runs on. */
    public enum Kind {
        CPU,
        GPU
    }

    /** The CPU. */
    public static final Placement CPU = new Placement(Kind.CPU, -1);

    public Placement {
        if (kind == Kind.CPU ? device != -1 : device < 0) {
            throw new IllegalArgumentException(kind == Kind.CPU ? "a CPU placement has no device, got " + device
                    : "a GPU placement needs a device ordinal >= 0, got " + device);
        }
    }

    /** GPU {@code device}. */
    public static Placement gpu(int device) {
        return new Placement(Kind.GPU, device);
    }

    public boolean onGpu() {
        return kind == Kind.GPU;
    }

    /** {@code cpu} or {@code cuda:N}, as PyTorch names devices. */
    @Override
    public String toString() {
        return onGpu() ? "cuda:" + device : "cpu";
    }
}
