package dev.torchlight.engine.pytorch;

import ai.djl.Device;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.JniUtils;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.engine.Engine;
import dev.torchlight.engine.EngineException;
import dev.torchlight.engine.LoadedModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Runs TorchScript models on the CPU with libtorch, through DJL's PyTorch engine.
 *
 * <p>libtorch is loaded on the first {@link #load}, not on construction, so building the object
 * graph stays cheap; call {@link PyTorchRuntime#configureOffline} before that. The intra-op thread
 * count in {@link PyTorchOptions} is process-wide in libtorch: every model in the process shares
 * it, and the engine that loads a model last sets it.
 *
 * <p>Datatypes: BOOL, UINT8, INT8, INT32, INT64, FP16, FP32 and FP64. DJL 0.36 cannot pass INT16
 * or BF16 tensors to libtorch; a config that declares them is refused by {@link #load}.
 */
public final class PyTorchEngine implements Engine {
    private static final String[] NO_EXTRA_FILES = {};

    private final PyTorchOptions options;

    public PyTorchEngine(PyTorchOptions options) {
        this.options = options;
    }

    public PyTorchEngine() {
        this(PyTorchOptions.defaults());
    }

    @Override
    public String name() {
        return "PyTorch";
    }

    /**
     * Loads a TorchScript file (saved with {@code torch.jit.save}) onto the CPU.
     *
     * @throws EngineException when the config declares a datatype this engine cannot run, the file
     *     is missing or is not TorchScript, or libtorch cannot start; the message names the model
     *     and the file
     */
    @Override
    public LoadedModel load(ModelConfig config, Path modelFile) {
        checkDataTypes(config);
        if (!Files.isRegularFile(modelFile)) {
            throw new EngineException("model '" + config.name() + "': model file " + modelFile
                    + (Files.exists(modelFile) ? " is not a file" : " does not exist"));
        }
        ai.djl.engine.Engine djl = PyTorchRuntime.start();
        if (options.intraOpThreads() > 0) {
            PyTorchRuntime.setIntraOpThreads(options.intraOpThreads());
        }
        PtNDManager manager = null;
        try {
            manager = (PtNDManager) djl.newBaseManager(Device.cpu());
            // mapLocation: load every tensor onto the CPU even if it was saved from a GPU.
            PtSymbolBlock module = JniUtils.loadModule(
                    manager, modelFile.toAbsolutePath(), true, NO_EXTRA_FILES, NO_EXTRA_FILES, false);
            JniUtils.enableInferenceMode(module);
            return new PyTorchModel(config, manager, module, options.graphOptimizer());
        } catch (RuntimeException | LinkageError e) {
            if (manager != null) {
                manager.close();
            }
            throw new EngineException("model '" + config.name() + "': cannot load " + modelFile
                    + " as TorchScript: " + NativeErrors.message(e), e);
        }
    }

    private static void checkDataTypes(ModelConfig config) {
        check(config, "input", config.inputs());
        check(config, "output", config.outputs());
    }

    private static void check(ModelConfig config, String kind, List<TensorSpec> specs) {
        for (TensorSpec spec : specs) {
            if (DataTypes.toDjl(spec.dataType()) == null) {
                throw new EngineException("model '" + config.name() + "': " + kind + " '"
                        + spec.name() + "' has datatype " + spec.dataType()
                        + ", which the PyTorch engine cannot run; supported: "
                        + DataTypes.supported());
            }
        }
    }

    @Override
    public String toString() {
        return "PyTorchEngine" + options;
    }
}
