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
 * graph stays cheap; call {@link PyTorchRuntime#configureOffline} before that.
 *
 * <p>Intra-op threads (the threads libtorch uses inside one operator): the model config's
 * {@code intra_op_threads}, else {@link PyTorchOptions#intraOpThreads}, else
 * {@code max(1, cores / instances of the model)} (see {@link #intraOpThreads}). libtorch keeps this
 * count process-wide for threads that have not run an operator yet, and per thread after that: each
 * load sets the process-wide value (so the last model loaded decides it for threads that have not
 * run a model), and each model applies its own value on every thread that runs it, before its
 * first call there.
 *
 * <p>Out of memory: a run or load that fails because libtorch could not allocate memory throws an
 * {@link EngineException} whose {@link EngineException#outOfMemory()} is true.
 *
 * <p>GPUs: this build carries libtorch for the CPU only; {@link #gpuCount()} is 0.
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
        int threads = intraOpThreads(config, options.intraOpThreads(), Runtime.getRuntime().availableProcessors());
        PyTorchRuntime.setIntraOpThreads(threads);
        PtNDManager manager = null;
        try {
            manager = (PtNDManager) djl.newBaseManager(Device.cpu());
            // mapLocation: load every tensor onto the CPU even if it was saved from a GPU.
            PtSymbolBlock module = JniUtils.loadModule(
                    manager, modelFile.toAbsolutePath(), true, NO_EXTRA_FILES, NO_EXTRA_FILES, false);
            JniUtils.enableInferenceMode(module);
            return new PyTorchModel(config, manager, module, options.graphOptimizer(), threads);
        } catch (RuntimeException | LinkageError e) {
            if (manager != null) {
                manager.close();
            }
            throw new EngineException("model '" + config.name() + "': cannot load " + modelFile
                    + " as TorchScript: " + NativeErrors.message(e), e, NativeErrors.outOfMemory(e));
        }
    }

    /**
     * libtorch's intra-op threads for one instance of a model: the config's {@code intra_op_threads}
     * when set, else the engine's {@link PyTorchOptions#intraOpThreads} when set, else the cores shared
     * out over the model's instances, {@code max(1, cores / instances)}, so that instances times
     * threads do not exceed the cores.
     */
    static int intraOpThreads(ModelConfig config, int engineThreads, int cores) {
        if (config.intraOpThreads() > 0) {
            return config.intraOpThreads();
        }
        if (engineThreads > 0) {
            return engineThreads;
        }
        return Math.max(1, cores / Math.max(1, config.instanceCount()));
    }

    /** This engine runs every instance on the CPU. */
    @Override
    public int gpuCount() {
        return 0;
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
