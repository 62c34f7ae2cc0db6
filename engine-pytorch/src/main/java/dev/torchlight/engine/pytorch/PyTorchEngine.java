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
import dev.torchlight.engine.Placement;
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
 * {@code intra_op_threads}, else {@link PyTorchOptions#intraOpThreads}, else an even share of the
 * cores among every live instance of this engine, across all its models (see {@link IntraOpBudget}
 * for why the budget is the whole process's). libtorch keeps this count per thread, so each model
 * applies its current value on the thread that runs it before every call (a thread-local check,
 * a JNI call only when the value changed).
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
    private final IntraOpBudget budget;

    public PyTorchEngine(PyTorchOptions options) {
        this(options, Runtime.getRuntime().availableProcessors());
    }

    /** @param cores the cores this engine's instances share */
    PyTorchEngine(PyTorchOptions options, int cores) {
        this.options = options;
        this.budget = new IntraOpBudget(cores);
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
     * @throws EngineException when the placement is a GPU, the config declares a datatype this engine
     *     cannot run, the file is missing or is not TorchScript, or libtorch cannot start; the message
     *     names the model and the file
     */
    @Override
    public LoadedModel load(ModelConfig config, Path modelFile, Placement placement) {
        if (placement.onGpu()) {
            throw new EngineException("model '" + config.name() + "': cannot place an instance on " + placement
                    + ": this build runs libtorch on CPU");
        }
        checkDataTypes(config);
        if (!Files.isRegularFile(modelFile)) {
            throw new EngineException("model '" + config.name() + "': model file " + modelFile
                    + (Files.exists(modelFile) ? " is not a file" : " does not exist"));
        }
        ai.djl.engine.Engine djl = PyTorchRuntime.start();
        IntraOpBudget.Lease threads = budget.acquire(fixedIntraOpThreads(config, options.intraOpThreads()));
        PtNDManager manager = null;
        try {
            PyTorchRuntime.setIntraOpThreads(threads.threads());
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
            threads.close();
            throw new EngineException("model '" + config.name() + "': cannot load " + modelFile
                    + " as TorchScript: " + NativeErrors.message(e), e, NativeErrors.outOfMemory(e));
        }
    }

    /**
     * The intra-op threads an instance of {@code config} is fixed to: the config's
     * {@code intra_op_threads} when set, else the engine's {@link PyTorchOptions#intraOpThreads} when
     * set, else 0 (a share of the cores, from the {@link IntraOpBudget}).
     */
    static int fixedIntraOpThreads(ModelConfig config, int engineThreads) {
        return config.intraOpThreads() > 0 ? config.intraOpThreads() : engineThreads;
    }

    /** Threads each instance without a fixed count runs with now. */
    int sharedIntraOpThreads() {
        return budget.share();
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
