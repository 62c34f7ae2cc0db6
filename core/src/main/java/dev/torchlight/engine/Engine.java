package dev.torchlight.engine;

import dev.torchlight.config.ModelConfig;
import java.nio.file.Path;

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
}
