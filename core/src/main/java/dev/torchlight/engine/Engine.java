package dev.torchlight.engine;

import dev.torchlight.config.ModelConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Loads model files into runnable instances. Implemented at the edge (engine-libtorch), faked in tests. */
public interface Engine {

    /** Short name for logs, e.g. {@code PyTorch}. */
    String name();

    /**
     * Loads one instance of a model where it is placed.
     *
     * @param config the model's validated config
     * @param modelFile the serialized model, e.g. {@code <repo>/<model>/<version>/model.pt}
     * @param placement the CPU or the GPU the instance runs on; an engine that cannot run there
     *     refuses it
     * @throws EngineException when the file cannot be loaded or the placement cannot be honoured;
     *     the message says why
     */
    LoadedModel load(ModelConfig config, Path modelFile, Placement placement);

    /** GPUs this engine can place instances on; 0 where it runs on CPU only. */
    default int gpuCount() {
        return 0;
    }

    /** GPU {@code device}'s free and total memory now; empty where the engine cannot tell. */
    default Optional<DeviceMemory> deviceMemory(int device) {
        return Optional.empty();
    }

    /** What the engine's allocator holds on each GPU it has used; empty on the CPU. */
    default List<DeviceAllocation> deviceAllocations() {
        return List.of();
    }
}
