package dev.torchlight.server.inference;

import dev.torchlight.api.DataType;
import dev.torchlight.config.InstanceGroup;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;

/**
 * How Triton's model configuration names torchlight's settings, shared by the REST and gRPC forms of
 * the model configuration extension so that both say the same.
 */
public final class TritonNames {
    /** Triton's backend name for PyTorch models. */
    public static final String BACKEND = "pytorch";

    private TritonNames() {}

    /** {@code pytorch_libtorch} for TorchScript, {@code torch_aoti} for an AOTInductor package. */
    public static String platform(ModelConfig config) {
        return config.aoti() ? "torch_aoti" : "pytorch_libtorch";
    }

    /** {@code TYPE_FP32} and so on. */
    public static String dataType(TensorSpec spec) {
        return dataType(spec.dataType());
    }

    /** {@code TYPE_INT64} and so on. */
    public static String dataType(DataType type) {
        return "TYPE_" + type.name();
    }

    /** {@code KIND_CPU}, {@code KIND_GPU} or {@code KIND_MODEL}. */
    public static String kind(InstanceGroup group) {
        return "KIND_" + group.kind().name();
    }

    /** A group's name as Triton forms it: {@code <model>_<group index>}. */
    public static String groupName(String model, int index) {
        return model + "_" + index;
    }
}
